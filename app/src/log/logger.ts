import { pino, type Logger, type LoggerOptions } from 'pino';

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
}

export function createLogger(settings: LoggerSettings, destination?: NodeJS.WritableStream): Logger {
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
