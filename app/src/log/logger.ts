import { pino, type Logger, type LoggerOptions } from 'pino';
import {
  DEFAULT_LOG_REFUSAL_INTERVAL_MS,
  DEFAULT_LOG_REFUSAL_LINES,
  DEFAULT_LOG_REFUSAL_LINES_PER_PEER,
} from '../config/defaults.js';
import { attachRefusalLimiter, type RefusalLogLimits } from './refusal-log.js';

export type { Logger };

/**
 * Every field name that may carry a secret, at any depth we log. pino replaces the value
 * with "[redacted]" before it is serialized, so a secret never reaches a log line.
 */
export const REDACTED_PATHS = [
  'password', '*.password', 'passwordHash', '*.passwordHash',
  'hmacSecret', '*.hmacSecret', 'hmacSecrets', '*.hmacSecrets', 'secret', '*.secret',
  'apiKey', '*.apiKey', 'x-api-key', '*["x-api-key"]', 'headers.cookie', '*.headers.cookie',
  'headers.authorization', '*.headers.authorization', 'headers["x-api-key"]', '*.headers["x-api-key"]',
  'sessionId', '*.sessionId', 'session', '*.session', 'cookie', '*.cookie',
  'csrfToken', '*.csrfToken', 'token', '*.token',
  'databaseUrl', '*.databaseUrl', 'dbUrl', '*.dbUrl',
];

export interface LoggerSettings {
  level: string;
  /** Human-readable output; defaults to true on a terminal, JSON otherwise. */
  pretty?: boolean;
  name?: string;
  /**
   * Where lines go. Services log to stdout (the container convention); one-shot commands log
   * to stderr so their stdout carries only their result (a key, JSON, a table).
   * @default 'stdout'
   */
  stream?: 'stdout' | 'stderr';
  /** How many lines clients can cause (see logRefusal); the configured defaults otherwise. */
  refusals?: RefusalLogLimits;
}

export const DEFAULT_REFUSAL_LOG_LIMITS: RefusalLogLimits = {
  perPeer: DEFAULT_LOG_REFUSAL_LINES_PER_PEER,
  perKind: DEFAULT_LOG_REFUSAL_LINES,
  intervalMs: DEFAULT_LOG_REFUSAL_INTERVAL_MS,
};

/** A pino logger; it and its children share one refusal limiter (see log/refusal-log.ts). */
export function createLogger(settings: LoggerSettings, destination?: NodeJS.WritableStream): Logger {
  const logger = createPino(settings, destination);
  attachRefusalLimiter(logger, settings.refusals ?? DEFAULT_REFUSAL_LOG_LIMITS);
  return logger;
}

function createPino(settings: LoggerSettings, destination?: NodeJS.WritableStream): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    name: settings.name ?? 'trapperkeeper',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const stream = settings.stream ?? 'stdout';
  const pretty = settings.pretty ?? (destination === undefined && process[stream].isTTY === true);
  if (pretty) {
    const fd = stream === 'stderr' ? 2 : 1;
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, destination: fd } } });
  }
  return pino(options, (destination ?? pino.destination(stream === 'stderr' ? 2 : 1)) as pino.DestinationStream);
}
