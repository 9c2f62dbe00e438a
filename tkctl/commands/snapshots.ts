import { DeployError } from '../../components/errors.js';
import { applyRetention, planRetention, readSnapshotFolder } from '../../providers/docker/snapshot/index.js';
import { JSON_OPTION, parseCommandArgs } from '../args.js';
import { guarded, line, writeJson, type TkctlIo } from '../io.js';
import { stackEvents } from '../stack-events.js';
import { chooseStack, requireReleasedSpec, withStackHost } from '../stack-target.js';
import { formatAge, formatSize } from './status.js';

export const SNAPSHOTS_HELP = `Usage: tkctl snapshots list|prune [--stack <name>] [--json] [--dry-run]

  list   every snapshot of the stack's database, newest first: name, size, age, verified or not,
         and traces of failed attempts (partial dumps, failure records)
  prune  applies the stack's retention (snapshots.retentionDays): deletes older snapshots and
         traces, never the newest verified snapshot; --dry-run prints what it would delete

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
    await withStackHost(io, stack, async (engine, state) => {
      const spec = requireReleasedSpec(state, stack);
      if (action === 'list') {
        const folder = await readSnapshotFolder(engine, spec);
        const now = Date.now();
        const snapshots = folder.snapshots
          .slice()
          .reverse()
          .map((s) => ({ name: s.name, size: s.size, takenAt: s.takenAt.toISOString(), ageSeconds: Math.round((now - s.takenAt.getTime()) / 1000), commit: s.commit, verified: s.verified, sha256: s.sha256 ?? null }));
        const traces = folder.traces.map((t) => ({ name: t.name, kind: t.kind, size: t.size, takenAt: t.takenAt.toISOString() }));
        if (values.json) return writeJson(io, { dir: folder.dir, container: spec.database.container, snapshots, traces });
        line(io.stdout, `${snapshots.length} snapshot(s) in ${spec.database.container}:${folder.dir}`);
        for (const s of snapshots) line(io.stdout, `  ${s.name}  ${formatSize(s.size).padStart(10)}  ${formatAge(s.ageSeconds).padStart(7)} ago  ${s.verified ? 'verified' : 'UNVERIFIED'}`);
        for (const t of traces) line(io.stdout, `  ${t.name}  (${t.kind})`);
        return;
      }
      if (values['dry-run']) {
        const plan = planRetention(await readSnapshotFolder(engine, spec), { retentionDays: spec.snapshots.retentionDays, now: new Date() });
        if (values.json) return writeJson(io, { dryRun: true, retentionDays: spec.snapshots.retentionDays, delete: plan.delete, keep: plan.keep, heldBack: plan.heldBack ?? null });
        line(io.stdout, plan.heldBack ? `retention held back: ${plan.heldBack}` : `would delete ${plan.delete.length}: ${plan.delete.join(', ') || 'nothing'}`);
        return;
      }
      const result = await applyRetention(engine, spec, new Date(), { events: stackEvents(io, stack) });
      if (values.json) return writeJson(io, { dryRun: false, retentionDays: spec.snapshots.retentionDays, deleted: result.deleted, keep: result.keep, heldBack: result.heldBack ?? null });
      line(io.stdout, result.heldBack ? `retention held back: ${result.heldBack}` : `deleted ${result.deleted.length} (older than ${spec.snapshots.retentionDays} days): ${result.deleted.join(', ') || 'nothing'}`);
    });
  });
}
