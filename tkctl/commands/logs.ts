import { spawn } from 'node:child_process';
import { DeployError } from '../../components/errors.js';
import { parseCommandArgs } from '../args.js';
import { guarded, line, type TkctlIo } from '../io.js';
import { chooseStack, liveSlotContainers, requireReleasedSpec, withStackHost } from '../stack-target.js';

const SERVICES = ['web-ui', 'sensor-api', 'postgres', 'caddy'] as const;

export const LOGS_HELP = `Usage: tkctl logs [service] [--follow] [--tail <n>] [--stack <name>]

The logs of the stack's containers (docker logs): service is one of ${SERVICES.join(', ')}
(web-ui and sensor-api: the live slot's); without one, both app services of the live slot, each
line prefixed with its service. The app's logs are pino JSON with secrets redacted.

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
    if (service !== undefined && !(SERVICES as readonly string[]).includes(service)) {
      throw new DeployError(`tkctl logs: unknown service "${service}"`, `name one of ${SERVICES.join(', ')}`);
    }
    const tail = values.tail ?? '100';
    if (tail !== 'all' && !/^\d+$/.test(tail)) throw new DeployError(`tkctl logs: --tail must be a number or "all", not "${tail}"`, 'tkctl logs --tail 200');
    const stack = await chooseStack(io, values.stack);
    return withStackHost(io, stack, async (engine, state) => {
      const spec = requireReleasedSpec(state, stack);
      const fixed: Record<string, string> = { postgres: spec.database.container, caddy: spec.proxy.container };
      const targets = service && fixed[service] ? { [service]: fixed[service] } : service ? { [service]: liveSlotContainers(state, stack).containers[service as 'web-ui' | 'sensor-api'] } : liveSlotContainers(state, stack).containers;
      const prefixed = Object.keys(targets).length > 1;
      const codes = await Promise.all(
        Object.entries(targets).map(([name, container]) =>
          streamLogs(io, engine.options.host, ['logs', '--tail', tail, ...(values.follow ? ['--follow'] : []), container], prefixed ? `${name} | ` : ''),
        ),
      );
      const failed = codes.find((code) => code !== 0);
      if (failed !== undefined) throw new DeployError(`docker logs exited with ${failed}`, `check the container exists: tkctl status --stack ${stack}`);
      return 0;
    });
  });
}

/** docker logs writes the container's stdout to stdout and its stderr to stderr; both go to ours, line by line. */
function streamLogs(io: TkctlIo, host: string | undefined, args: string[], prefix: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { env: { ...process.env, ...(host ? { DOCKER_HOST: host } : {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
    const pipe = (from: NodeJS.ReadableStream, to: NodeJS.WritableStream) => {
      let rest = '';
      from.on('data', (chunk: Buffer) => {
        const lines = (rest + chunk.toString('utf8')).split('\n');
        rest = lines.pop() ?? '';
        for (const text of lines) to.write(`${prefix}${text}\n`);
      });
      from.on('end', () => rest && to.write(`${prefix}${rest}\n`));
    };
    pipe(child.stdout, io.stdout);
    pipe(child.stderr, io.stderr);
    // Ctrl-C ends a --follow: docker logs is stopped (a terminal signals it too) and that is a
    // clean exit, whatever code it dies with; tkctl stays alive until it has. `on`, not `once`:
    // a second SIGINT (the bin forwarding the same Ctrl-C) must not kill tkctl midway.
    let interrupted = false;
    const stop = () => {
      interrupted = true;
      child.kill('SIGTERM');
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(interrupted || signal === 'SIGTERM' ? 0 : code ?? 1);
    });
  });
}
