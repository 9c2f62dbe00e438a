import { DeployError } from '../../components/errors.js';
import { applyRetention, planRetention, readSnapshotFolder } from '../../providers/docker/snapshot/index.js';
import { JSON_OPTION, parseCommandArgs } from '../args.js';
import { guarded, line, writeJson, type TkctlIo } from '../io.js';
import { stackEvents } from '../stack-events.js';
import { chooseStack, requireReleasedSpec, withStackHost, withStackOperationsOf } from '../stack-target.js';
import { formatAge, formatSize } from './status.js';

export const SNAPSHOTS_HELP = `Usage: tkctl snapshots list|prune [--stack <name>] [--json] [--dry-run]

  list   every snapshot of the stack's database, newest first: name, size, age, verified or not,
         and (Docker) traces of failed attempts (partial dumps, failure records); on AWS the
         objects in the S3 bucket, on GCP those in the release-state bucket
  prune  Docker: applies the stack's retention (snapshots.retentionDays): deletes older snapshots
         and traces, never the newest verified snapshot; --dry-run prints what it would delete.
         On AWS and GCP the bucket's lifecycle rule applies the same retention by itself

Options:
  -s, --stack <name>  the stack (default: the selected one)
      --json          machine-readable output
      --dry-run       prune: delete nothing, print the plan
  -h, --help          this text`;

export async function snapshotsCommand(argv: string[], io: TkctlIo): Promise<number> {
  return guarded(io, async () => {
    const { values, positionals } = parseCommandArgs(argv, { name: 'snapshots', options: { ...JSON_OPTION, 'dry-run': { type: 'boolean' } }, positionals: { min: 1, max: 1 } });
    if (values.help) return void line(io.stdout, SNAPSHOTS_HELP);
    const [action] = positionals;
    if (action !== 'list' && action !== 'prune') throw new DeployError(`tkctl snapshots: unknown action "${action}"`, 'tkctl snapshots list, or tkctl snapshots prune [--dry-run]');
    const stack = await chooseStack(io, values.stack);
    if (action === 'list') {
      const listing = await withStackOperationsOf(io, stack, (operations) => operations.listSnapshots());
      const now = Date.now();
      const snapshots = listing.snapshots
        .slice()
        .reverse()
        .map((s) => ({ name: s.name, size: s.size, takenAt: s.takenAt.toISOString(), ageSeconds: Math.round((now - s.takenAt.getTime()) / 1000), commit: s.commit, verified: s.verified, sha256: s.sha256 }));
      const traces = listing.traces.map((t) => ({ name: t.name, kind: t.kind, size: t.size, takenAt: t.takenAt.toISOString() }));
      if (values.json) return void writeJson(io, { location: listing.location, snapshots, traces });
      line(io.stdout, `${snapshots.length} snapshot(s) in ${listing.location}`);
      for (const s of snapshots) line(io.stdout, `  ${s.name}  ${s.size === null ? '' : formatSize(s.size).padStart(10)}  ${formatAge(s.ageSeconds).padStart(7)} ago  ${s.verified ? 'verified' : 'UNVERIFIED'}`);
      for (const t of traces) line(io.stdout, `  ${t.name}  (${t.kind})`);
      return;
    }
    await withStackHost(
      io,
      stack,
      async (engine, state) => {
        const spec = requireReleasedSpec(state, stack);
        if (values['dry-run']) {
          const plan = planRetention(await readSnapshotFolder(engine, spec), { retentionDays: spec.snapshots.retentionDays, now: new Date() });
          if (values.json) return writeJson(io, { dryRun: true, retentionDays: spec.snapshots.retentionDays, delete: plan.delete, keep: plan.keep, heldBack: plan.heldBack ?? null });
          line(io.stdout, plan.heldBack ? `retention held back: ${plan.heldBack}` : `would delete ${plan.delete.length}: ${plan.delete.join(', ') || 'nothing'}`);
          return;
        }
        const result = await applyRetention(engine, spec, new Date(), { events: stackEvents(io, stack) });
        if (values.json) return writeJson(io, { dryRun: false, retentionDays: spec.snapshots.retentionDays, deleted: result.deleted, keep: result.keep, heldBack: result.heldBack ?? null });
        line(io.stdout, result.heldBack ? `retention held back: ${result.heldBack}` : `deleted ${result.deleted.length} (older than ${spec.snapshots.retentionDays} days): ${result.deleted.join(', ') || 'nothing'}`);
      },
      {
        command: 'snapshots prune',
        aws: {
          why: "the S3 bucket's lifecycle rule expires snapshots snapshots.retentionDays after a newer one is verified, never the newest",
          fix: `pulumi config set --path snapshots.retentionDays <days> -s ${stack} && pulumi up -s ${stack} (the rule is declared from it); tkctl snapshots list --stack ${stack} shows what is kept`,
        },
        gcp: {
          why: "the release-state bucket's lifecycle rule deletes snapshots snapshots.retentionDays after a newer one is verified, and each release deletes expired ones",
          fix: `pulumi config set --path snapshots.retentionDays <days> -s ${stack} && pulumi up -s ${stack}; tkctl snapshots list --stack ${stack} shows what is kept`,
        },
      },
    );
  });
}
