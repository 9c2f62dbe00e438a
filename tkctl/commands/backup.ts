import { JSON_OPTION, parseCommandArgs } from '../args.js';
import { guarded, line, writeJson, type TkctlIo } from '../io.js';
import { stackEvents } from '../stack-events.js';
import { chooseStack, withStackOperationsOf } from '../stack-target.js';

export const BACKUP_HELP = `Usage: tkctl backup [--stack <name>] [--json]

Takes a pg_dump -Fc snapshot of the stack's database now, by the step a release runs before
migrations, and publishes it only once it was read back in full and its sha256 checked:
  docker  pg_dump in the database container, read back with pg_restore, into the snapshot folder
  aws     the one-off ECS task tk-<stack>-snapshot, uploaded to the stack's S3 bucket, read back
  gcp     the Cloud Run job tk-<stack>-pg-dump, into the release-state bucket, read back
A failure leaves no verified snapshot and exits 1. Retention (snapshots.retentionDays) applies to
it like to any other (Docker: tkctl snapshots prune; the clouds: the bucket's lifecycle rule).

Options:
  -s, --stack <name>  the stack (default: the selected one)
      --json          print {"name", "size", "sha256", "takenAt", "location"} (Docker: also "container", "path")
  -h, --help          this text`;

export async function backupCommand(argv: string[], io: TkctlIo): Promise<number> {
  return guarded(io, async () => {
    const { values } = parseCommandArgs(argv, { name: 'backup', options: JSON_OPTION });
    if (values.help) return void line(io.stdout, BACKUP_HELP);
    const stack = await chooseStack(io, values.stack);
    const backup = await withStackOperationsOf(io, stack, (operations) => operations.backup(stackEvents(io, stack)));
    const { name, size, sha256, takenAt, location, fields } = backup;
    if (values.json) return void writeJson(io, { name, size, sha256, takenAt: takenAt.toISOString(), location, ...fields });
    line(io.stdout, `snapshot ${name} (${size ?? '?'} bytes, sha256 ${sha256 ?? 'unknown'}) verified in ${location}`);
  });
}
