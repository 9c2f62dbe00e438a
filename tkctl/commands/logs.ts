import { DeployError } from '../../components/errors.js';
import { LOG_SERVICES, type LogService } from '../../providers/stack-operations.js';
import { parseCommandArgs } from '../args.js';
import { guarded, line, type TkctlIo } from '../io.js';
import { chooseStack, withStackOperationsOf } from '../stack-target.js';

export const LOGS_HELP = `Usage: tkctl logs [service] [--follow] [--tail <n>] [--stack <name>]

The logs of the stack's services: service is one of ${LOG_SERVICES.join(', ')} (web-ui and
sensor-api: the live slot's); without one, both app services of the live slot, each line
prefixed with its service. The app's logs are pino JSON with secrets redacted.
  docker  docker logs of the containers (postgres and caddy too)
  aws     CloudWatch Logs: the live slot's streams in the log groups the task definitions name
          (postgres: RDS keeps its own logs; caddy: there is none, the load balancer routes)
  gcp     Cloud Logging: the live revisions' stdout and stderr (Cloud Run's request log left out)
          (postgres: gcloud logging read of the Cloud SQL instance; caddy: there is none)

Options:
  -s, --stack <name>  the stack (default: the selected one)
  -f, --follow        keep streaming new lines until Ctrl-C
      --tail <n>      only the last n lines of each (default: 100; "all" for everything)
  -h, --help          this text`;

export async function logsCommand(argv: string[], io: TkctlIo): Promise<number> {
  return guarded(io, async () => {
    const { values, positionals } = parseCommandArgs(argv, { name: 'logs', options: { follow: { type: 'boolean', short: 'f' }, tail: { type: 'string' } }, positionals: { min: 0, max: 1 } });
    if (values.help) return void line(io.stdout, LOGS_HELP);
    const service = positionals[0];
    if (service !== undefined && !(LOG_SERVICES as readonly string[]).includes(service)) {
      throw new DeployError(`tkctl logs: unknown service "${service}"`, `name one of ${LOG_SERVICES.join(', ')}`);
    }
    const tail = values.tail ?? '100';
    if (tail !== 'all' && !/^\d+$/.test(tail)) throw new DeployError(`tkctl logs: --tail must be a number or "all", not "${tail}"`, 'tkctl logs --tail 200');
    const stack = await chooseStack(io, values.stack);
    await withStackOperationsOf(io, stack, (operations) =>
      operations.logs(
        { ...(service ? { service: service as LogService } : {}), follow: values.follow ?? false, tail: tail === 'all' ? 'all' : Number(tail) },
        { out: (text) => line(io.stdout, text), err: (text) => line(io.stderr, text) },
      ),
    );
  });
}
