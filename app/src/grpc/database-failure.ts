import { status } from '@grpc/grpc-js';
import type { Database } from '../db/types.js';
import type { Logger } from '../log/logger.js';
import { logRefusal } from '../log/refusal-log.js';
import { CallError } from './call-error.js';

/** Driver error codes that mean "the database cannot serve right now", whatever the query was. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST', 'ER_CON_COUNT_ERROR', 'SQLITE_BUSY', 'SQLITE_CANTOPEN',
  // PostgreSQL SQLSTATEs: connection exceptions, shutdown, too many connections.
  '08000', '08001', '08003', '08004', '08006', '57P01', '57P02', '57P03', '53300',
]);

const PING_TIMEOUT_MS = 1000;

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Turns a failed database call into the status a sensor should see: UNAVAILABLE (retry
 * later) when the database cannot be reached, INTERNAL otherwise. When the error itself
 * does not say, a quick ping decides, so closed pools and dead servers of every driver
 * classify the same way.
 */
export async function databaseFailure(db: Database, error: unknown): Promise<CallError> {
  const unavailable = new CallError(status.UNAVAILABLE, 'the database is unavailable; retry later');
  const code = errorCode(error);
  if (code !== undefined && UNREACHABLE_CODES.has(code)) return unavailable;
  try {
    await db.ping(PING_TIMEOUT_MS);
  } catch {
    return unavailable;
  }
  return new CallError(status.INTERNAL, 'internal error');
}

/**
 * Runs a database step of a call; when it fails, logs `failedTo` (with `context`) as a warning
 * and throws the status the sensor should see (see databaseFailure).
 */
export async function orDatabaseFailure<T>(
  deps: { db: Database; logger: Logger },
  failedTo: string,
  step: () => Promise<T>,
  context: Record<string, unknown> = {},
): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const failure = await databaseFailure(deps.db, error);
    // Every call fails while the database is down: the log must not grow with the call rate.
    logRefusal(deps.logger, 'warn', typeof context.peer === 'string' ? context.peer : undefined, { ...context, err: error }, failedTo);
    throw failure;
  }
}
