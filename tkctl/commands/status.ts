import { JSON_OPTION, parseCommandArgs } from '../args.js';
import { lastDeployments, lastReleaseOutcomes } from '../deploy-history.js';
import { guarded, line, writeJson, type TkctlIo } from '../io.js';
import { chooseStack, withStackOperationsOf } from '../stack-target.js';

export const STATUS_HELP = `Usage: tkctl status [--stack <name>] [--json]

What serves and what could: the live slot and release, the previous (parked) release, the
health of every part of the stack, its snapshots with sizes and ages, the deploy lock, and the
last deployments (the release pipeline's log, .trapperkeeper/events/<stack>.jsonl, and tkctl's
own history, .trapperkeeper/deployments/<stack>.jsonl). Reads the stack's target as its
Pulumi.<stack>.yaml names it: a Docker host (its docker.host, DOCKER_HOST or the local engine;
health of each container), AWS (ECS services and their load balancer targets, the DynamoDB lock,
the S3 snapshots) or GCP (Cloud Run revisions, the lock and snapshots in the release-state
bucket); needs no Pulumi CLI with --stack.

Options:
  -s, --stack <name>  the stack (default: the selected one)
      --json          one JSON document (what scripts read)
  -h, --help          this text`;

const DEPLOYMENTS_SHOWN = 5;

export async function statusCommand(argv: string[], io: TkctlIo): Promise<number> {
  return guarded(io, async () => {
    const { values } = parseCommandArgs(argv, { name: 'status', options: JSON_OPTION });
    if (values.help) return void line(io.stdout, STATUS_HELP);
    const stack = await chooseStack(io, values.stack);
    const status = await withStackOperationsOf(io, stack, async (operations) => {
      const target = await operations.status();
      const now = Date.now();
      return {
        stack,
        provider: operations.provider,
        live: target.report.live,
        previous: target.previous,
        slots: target.report.slots,
        lock: target.report.lock,
        latestSnapshot: target.report.latestSnapshot,
        snapshots: target.snapshots
          .slice()
          .reverse()
          .map((snapshot) => ({ name: snapshot.name, size: snapshot.size, takenAt: snapshot.takenAt.toISOString(), ageSeconds: Math.round((now - snapshot.takenAt.getTime()) / 1000), verified: snapshot.verified })),
        health: target.health,
        releases: lastReleaseOutcomes(io.cwd, stack, DEPLOYMENTS_SHOWN),
        deployments: lastDeployments(io.cwd, stack, DEPLOYMENTS_SHOWN),
      };
    });
    if (values.json) return void writeJson(io, status);

    const out = (text = '') => line(io.stdout, text);
    out(`stack ${stack} (${status.provider})`);
    out(`  live:      ${status.live ? `${status.live.releaseId} (${status.live.slot})` : 'nothing (no release has gone live)'}`);
    out(`  previous:  ${status.previous ? `${status.previous.releaseId} (${status.previous.slot}, ${status.previous.running ? 'running' : 'parked'})` : 'none'}`);
    out(`  lock:      ${status.lock}`);
    out('health');
    for (const item of status.health) out(`  ${item.role.padEnd(18)} ${item.state}${item.health ? `, ${item.health}` : ''}  (${item.component})`);
    out(`snapshots (${status.snapshots.length})`);
    for (const snapshot of status.snapshots) out(`  ${snapshot.name}  ${snapshot.size === null ? '' : `${formatSize(snapshot.size)}  `}${formatAge(snapshot.ageSeconds)} ago${snapshot.verified ? '' : '  UNVERIFIED'}`);
    out('last releases');
    if (status.releases.length === 0) out('  none recorded here');
    for (const release of status.releases) {
      out(`  ${release.time}  ${release.result.padEnd(9)} ${release.kind.padEnd(8)} ${release.release ?? '?'}${release.durationMs !== null ? `  ${(release.durationMs / 1000).toFixed(1)} s` : ''}`);
    }
    if (status.deployments.length > 0) {
      out('last tkctl runs');
      for (const run of status.deployments) out(`  ${run.startedAt}  ${run.command.padEnd(8)} ${run.result.padEnd(9)} by ${run.by}  ${(run.durationMs / 1000).toFixed(1)} s  ${run.release ?? ''}`);
    }
  });
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

export function formatAge(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}
