import { pino, type Logger } from 'pino';

/** The deployment events a release emits, as structured log lines (`event` field). */
export type DeployEventName =
  | 'release.started'
  | 'lock.acquired'
  | 'lock.waiting'
  | 'lock.released'
  | 'lock.broken'
  | 'snapshot.taken'
  | 'snapshot.failed'
  | 'snapshot.pruned'
  | 'snapshot.retention-held-back'
  | 'snapshot.restored'
  | 'migrated'
  | 'slot.started'
  | 'gate.passed'
  | 'promoted'
  | 'verified'
  | 'drained'
  | 'pruned'
  | 'release.succeeded'
  | 'release.failed'
  | 'rolled-back';

/** Field names that may carry a secret anywhere in an event; pino blanks them before writing. */
export const DEPLOY_REDACTED_PATHS = [
  'password', '*.password', 'secret', '*.secret', 'secrets', '*.secrets', 'databaseUrl', '*.databaseUrl',
  'env', '*.env', 'hmacSecret', '*.hmacSecret', 'token', '*.token', 'apiKey', '*.apiKey',
];

export type DeployEventLevel = 'info' | 'warn' | 'error';

export interface DeployEvents {
  emit(event: DeployEventName, fields?: Record<string, unknown>, level?: DeployEventLevel): void;
  logger: Logger;
}

/** JSON lines by default (CI, log shippers); human-readable on a terminal. */
export function createDeployEvents(options: { level?: string; destination?: NodeJS.WritableStream; pretty?: boolean } = {}): DeployEvents {
  const settings = {
    name: 'trapperkeeper-deploy',
    level: options.level ?? 'info',
    redact: { paths: DEPLOY_REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const pretty = options.pretty ?? (options.destination === undefined && process.stderr.isTTY === true);
  const logger = pretty
    ? pino({ ...settings, transport: { target: 'pino-pretty', options: { destination: 2 } } })
    : pino(settings, (options.destination ?? process.stderr) as pino.DestinationStream);
  return {
    logger,
    emit(event, fields = {}, level = 'info') {
      logger[level]({ event, ...fields }, event);
    },
  };
}
