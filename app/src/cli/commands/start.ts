import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { HMAC_SECRET_ENV } from '../../config/defaults.js';
import { DEFAULT_SOURCE } from '../../config/problems.js';
import { runMigrations } from '../../db/migrator.js';
import { countUsers } from '../../db/users.js';
import { UserError } from '../../errors.js';
import { commandLogger, loadCommandConfig, withDatabase } from '../context.js';
import { ADMIN_PASSWORD_ENV } from './users.js';

/** Where `start` keeps the HMAC secret it generated for a local install (mode 0600). */
export const LOCAL_HMAC_SECRET_FILE = 'local-hmac-secret';

const READY_TIMEOUT_MS = 30_000;

/**
 * Local use only: TK_HMAC_SECRET when set, else a secret generated once into the data dir so
 * keys keep working across restarts. Production sets TK_HMAC_SECRET from a secret store.
 */
function localHmacSecret(dataDir: string): { value: string; generated: boolean } {
  const fromEnv = process.env[HMAC_SECRET_ENV];
  if (fromEnv) return { value: fromEnv, generated: false };
  const file = join(dataDir, LOCAL_HMAC_SECRET_FILE);
  if (existsSync(file)) return { value: readFileSync(file, 'utf8').trim(), generated: false };
  mkdirSync(dataDir, { recursive: true });
  const value = `${randomBytes(16).toString('hex')}:${randomBytes(32).toString('base64')}`;
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { value, generated: true };
}

/** The first service that exited, as reported by its 'exit' event. */
interface ServiceExit {
  service: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

async function waitUntilReady(url: string, firstExit: () => ServiceExit | undefined): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const exit = firstExit();
    if (exit) {
      throw new UserError(`${exit.service} exited (${exit.code ?? exit.signal}) while starting`, 'read its log lines above');
    }
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new UserError(`${url} did not report ready within ${READY_TIMEOUT_MS / 1000} s`, 'read the log lines above');
}

function localUrl(host: string, port: number, scheme = 'http'): string {
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `${scheme}://${reachable}:${port}`;
}

/** The global flags `start` was given, re-stated for the services it launches. */
function globalFlagsOf(command: Command): string[] {
  const flags: Record<string, string | undefined> = command.optsWithGlobals();
  return [
    ['--data-dir', flags.dataDir],
    ['--db-url', flags.dbUrl],
    ['--log-level', flags.logLevel],
    ['--config', flags.config],
  ].flatMap(([flag, value]) => (value === undefined ? [] : [flag!, value]));
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('Local all-in-one: migrate, then run sensor-api and web-ui together until Ctrl-C')
    .action(async (_options: unknown, command: Command) => {
      const config = loadCommandConfig(command);
      const logger = commandLogger(config, 'start');
      const secret = localHmacSecret(config.dataDir);
      if (secret.generated) {
        logger.warn(`generated a local HMAC secret in ${join(config.dataDir, LOCAL_HMAC_SECRET_FILE)}; in production set ${HMAC_SECRET_ENV}`);
      }
      const users = await withDatabase(
        config,
        async (db) => {
          await runMigrations(db, { logger });
          return countUsers(db);
        },
        false,
      );

      const script = process.argv[1]!;
      const passthrough = globalFlagsOf(command);
      const env = { ...process.env, [HMAC_SECRET_ENV]: secret.value, TK_DATA_DIR: config.dataDir };
      // execArgv carries node's own flags (e.g. `--import tsx` when run from source) to the children.
      const services = ['sensor-api', 'web-ui'];
      const children = services.map((service) =>
        spawn(process.execPath, [...process.execArgv, script, ...passthrough, service], { env, stdio: 'inherit' }),
      );
      let stopping = false;
      const stopAll = (signal: NodeJS.Signals) => {
        stopping = true;
        for (const child of children) if (child.exitCode === null) child.kill(signal);
      };
      let signalled = false;
      const onSignal = () => {
        signalled = true;
        stopAll('SIGTERM');
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      let firstExit: ServiceExit | undefined;
      const exited = children.map(
        (child, i) => new Promise<number>((resolve) => child.on('exit', (code, signal) => {
          firstExit ??= { service: services[i]!, code, signal };
          resolve(code ?? 1);
        })),
      );
      void Promise.race(exited).then(() => {
        if (!stopping) stopAll('SIGTERM');
      });

      const web = localUrl(config.webUi.host, config.webUi.port);
      const grpc = localUrl(config.sensorApi.host, config.sensorApi.port, 'grpc').replace('grpc://', '');
      const ops = localUrl(config.sensorApi.host, config.sensorApi.httpPort);
      const webMetrics = localUrl(config.webUi.metricsHost, config.webUi.metricsPort);
      try {
        await waitUntilReady(`${ops}/readyz`, () => firstExit);
        await waitUntilReady(`${web}/readyz`, () => firstExit);
        const lines = [
          '',
          'TrapperKeeper is running (Ctrl-C stops it):',
          `  web UI       ${web}`,
          `  sensor API   ${grpc} (gRPC, plaintext)`,
          `  health       ${ops}/readyz   metrics ${ops}/metrics (sensor API), ${webMetrics}/metrics (web UI)`,
          `  database     ${config.database.url.startsWith('sqlite') ? config.database.url : '(configured URL)'}`,
        ];
        if (users === 0) {
          // The admin must land in the database start uses: the data dir's SQLite file by default.
          const database = config.origins['database.url'] === DEFAULT_SOURCE
            ? `--data-dir ${config.dataDir}`
            : '<the database options you gave start>';
          lines.push(
            '',
            'First login: create an administrator (the password is read from stdin, never argv):',
            `  read -rs PASSWORD && printf '%s' "$PASSWORD" | npx trapperkeeper users create-admin --username admin ${database}`,
            `  (or set ${ADMIN_PASSWORD_ENV}); then sign in at ${web}/login`,
          );
        }
        process.stdout.write(`${lines.join('\n')}\n\n`);
      } catch (error) {
        // Ctrl-C while starting is not a failure: the children are draining, wait for them below.
        if (!signalled) {
          stopAll('SIGTERM');
          await Promise.all(exited);
          throw error;
        }
      }
      const codes = await Promise.all(exited);
      process.exitCode = stopping && codes.every((code) => code === 0) ? 0 : 1;
    });
}
