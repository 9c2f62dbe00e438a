import { takeSnapshot } from '../../providers/docker/snapshot/index.js';
import { JSON_OPTION, parseCommandArgs } from '../args.js';
import { guarded, line, progress, writeJson, type TkctlIo } from '../io.js';
import { liveCommit, stackEvents } from '../stack-events.js';
import { chooseStack, requireReleasedSpec, withStackHost } from '../stack-target.js';

export const BACKUP_HELP = `Usage: tkctl backup [--stack <name>] [--json]

Takes a pg_dump -Fc snapshot of the stack's database now, the same way a release does before
migrations: written to a partial file, read back in full with pg_restore, checksummed (sha256)
and only then published in the snapshot folder. A failure leaves no snapshot and exits 1.
Retention (snapshots.retentionDays) applies to it like to any other: tkctl snapshots prune.

Options:
  -s, --stack <name>  the stack (default: the selected one)
      --json          print {"name", "size", "sha256", "takenAt", "container", "path"}
  -h, --help          this text`;

export async function backupCommand(argv: string[], io: TkctlIo): Promise<number> {
  return guarded(io, async () => {
    const { values } = parseCommandArgs(argv, { name: 'backup', options: JSON_OPTION });
    if (values.help) return void line(io.stdout, BACKUP_HELP);
    const stack = await chooseStack(io, values.stack);
    const snapshot = await withStackHost(io, stack, async (engine, state) => {
      const spec = requireReleasedSpec(state, stack);
      progress(io, `taking a snapshot of ${spec.database.name} in ${spec.database.container} (pg_dump, full read-back, checksum)`);
      return { snapshot: await takeSnapshot(engine, spec, { commit: liveCommit(state), events: stackEvents(io, stack) }), container: spec.database.container };
    });
    const { name, size, sha256, takenAt, path } = snapshot.snapshot;
    if (values.json) return void writeJson(io, { name, size, sha256: sha256 ?? null, takenAt: takenAt.toISOString(), container: snapshot.container, path });
    line(io.stdout, `snapshot ${name} (${size} bytes, sha256 ${sha256}) verified in ${snapshot.container}:${path}`);
  });
}
