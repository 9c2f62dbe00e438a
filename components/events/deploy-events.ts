import { pino, type Logger } from 'pino';
import { humanLineStream } from './human-lines.js';

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
  | 'rolled-back'
  | 'monitoring.failed';

/** Field names that may carry a secret anywhere in an event; pino blanks them before writing. */
export const DEPLOY_REDACTED_PATHS = [
  'password', '*.password', 'secret', '*.secret', 'secrets', '*.secrets', 'databaseUrl', '*.databaseUrl',
  'env', '*.env', 'hmacSecret', '*.hmacSecret', 'token', '*.token', 'apiKey', '*.apiKey',
];

/** What a person reads for each event (the `msg` of its log record). */
const DEPLOY_EVENT_MESSAGES: Record<DeployEventName, string> = {
  'release.started': 'release started',
  'lock.acquired': 'deploy lock acquired',
  'lock.waiting': 'waiting for the deploy lock',
  'lock.released': 'deploy lock released',
  'lock.broken': 'deploy lock broken',
  'snapshot.taken': 'snapshot taken and verified',
  'snapshot.failed': 'snapshot failed',
  'snapshot.pruned': 'old snapshots deleted',
  'snapshot.retention-held-back': 'snapshot retention held back',
  'snapshot.restored': 'snapshot restored',
  migrated: 'migrations applied',
  'slot.started': 'idle slot started',
  'gate.passed': 'health gate passed',
  promoted: 'traffic switched and verified',
  verified: 'public endpoint verified',
  drained: 'old slot drained and parked',
  pruned: 'old release images pruned',
  'release.succeeded': 'release live',
  'release.failed': 'release failed',
  'rolled-back': 'rolled back',
  'monitoring.failed': 'monitoring not updated (the release is unaffected)',
};

/** Every event name, for schemas that let a person choose events (notification filters). */
export const DEPLOY_EVENT_NAMES = Object.keys(DEPLOY_EVENT_MESSAGES) as DeployEventName[];

export type DeployEventLevel = 'info' | 'warn' | 'error';

/** One event as a subscriber receives it: the fields as emitted, NOT redacted (redact before sending them anywhere). */
export interface DeployEventRecord {
  event: DeployEventName;
  level: DeployEventLevel;
  message: string;
  fields: Readonly<Record<string, unknown>>;
  time: Date;
}

export interface DeployEvents {
  emit(event: DeployEventName, fields?: Record<string, unknown>, level?: DeployEventLevel): void;
  /** Calls `listener` with every event after it is logged; returns the unsubscribe function. */
  subscribe(listener: (record: DeployEventRecord) => void): () => void;
  logger: Logger;
}

/** `human`: one line per step with its duration, for people; `json`: one JSON object per line. */
export type DeployEventFormat = 'human' | 'json';

/** Chooses JSON lines on stderr instead of the human lines (`TK_DEPLOY_EVENTS=json`). */
export const DEPLOY_EVENTS_FORMAT_ENV = 'TK_DEPLOY_EVENTS';
/** A file that receives every event as a JSON line as well, whatever the format on stderr. */
export const DEPLOY_EVENTS_FILE_ENV = 'TK_DEPLOY_EVENTS_FILE';

export interface DeployEventsOptions {
  level?: string;
  /** Where the lines go. @default process.stderr */
  destination?: NodeJS.WritableStream;
  /** @default json when TK_DEPLOY_EVENTS=json, else human */
  format?: DeployEventFormat;
  /** Also append every event as JSON to this file (created with its folder). @default TK_DEPLOY_EVENTS_FILE */
  jsonFile?: string;
}

/**
 * The deployment's event stream: each event one line a person can read (what happened, the
 * release and slot, how long it took), or JSON lines for machines; with `jsonFile` both.
 */
export function createDeployEvents(options: DeployEventsOptions = {}): DeployEvents {
  const format = options.format ?? (process.env[DEPLOY_EVENTS_FORMAT_ENV] === 'json' ? 'json' : 'human');
  const jsonFile = options.jsonFile ?? (process.env[DEPLOY_EVENTS_FILE_ENV] || undefined);
  const output = options.destination ?? process.stderr;
  const streams: pino.StreamEntry[] = [{ level: 'trace', stream: format === 'json' ? output : humanLineStream(output) }];
  if (jsonFile) streams.push({ level: 'trace', stream: pino.destination({ dest: jsonFile, mkdir: true, append: true, sync: true }) });
  const logger = pino(
    {
      name: 'trapperkeeper-deploy',
      level: options.level ?? 'info',
      redact: { paths: DEPLOY_REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.multistream(streams),
  );
  const listeners = new Set<(record: DeployEventRecord) => void>();
  return {
    logger,
    emit(event, fields = {}, level = 'info') {
      const message = DEPLOY_EVENT_MESSAGES[event];
      logger[level]({ event, ...fields }, message);
      for (const listener of listeners) {
        // A subscriber (a notification sink) must never break the release that emits.
        try {
          listener({ event, level, message, fields, time: new Date() });
        } catch (error) {
          logger.error({ reason: (error as Error)?.message ?? String(error) }, `a subscriber of ${event} failed`);
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
