import { Metadata, status } from '@grpc/grpc-js';
import { hashApiKey, parseApiKey } from '../auth/api-keys.js';
import type { HmacSecret } from '../auth/hmac-secrets.js';
import { findApiKeyByHash, lastUsedIsFresh, touchApiKeyLastUsed } from '../db/api-keys.js';
import type { Database } from '../db/types.js';
import type { Logger } from '../log/logger.js';
import { logRefusal } from '../log/refusal-log.js';
import { CallError } from './call-error.js';
import { orDatabaseFailure } from './database-failure.js';

export const API_KEY_METADATA = 'x-api-key';

/** Who is calling: the key that authenticated the call and the tenant it belongs to. */
export interface SensorPrincipal {
  apiKeyId: string;
  tenantId: string;
}

export interface SensorAuthDeps {
  db: Database;
  /** The configured secrets by id; a key issued under a secret no longer configured is unknown. */
  secrets: ReadonlyMap<string, HmacSecret>;
  /** The tenant this server serves; keys of other tenants are unknown here. */
  tenantId: string;
  logger: Logger;
  /** Told the peer (`address:port`) of every call whose key was accepted (see ConnectionGuard). */
  onAuthenticated?: (peer: string) => void;
}

function firstValue(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.toString('utf8');
}

function refuse(deps: SensorAuthDeps, peer: string, code: status, message: string, reason: string): CallError {
  // Never the key itself: only what was wrong with it and where the call came from.
  logRefusal(deps.logger, 'info', peer, { peer, reason }, 'sensor API call refused');
  return new CallError(code, message);
}

/**
 * Authenticates a sensor call by its `x-api-key` metadata (first value). Throws CallError:
 * UNAUTHENTICATED for a missing, malformed or unknown key, PERMISSION_DENIED for a revoked
 * one, UNAVAILABLE when the database cannot be asked. Malformed keys and keys of unconfigured
 * secrets are refused without touching the database.
 */
export async function authenticateSensor(metadata: Metadata, peer: string, deps: SensorAuthDeps): Promise<SensorPrincipal> {
  const key = firstValue(metadata, API_KEY_METADATA);
  if (!key) {
    throw refuse(deps, peer, status.UNAUTHENTICATED, `API key required in ${API_KEY_METADATA} metadata`, 'missing key');
  }
  const parsed = parseApiKey(key);
  if (!parsed) throw refuse(deps, peer, status.UNAUTHENTICATED, 'Invalid API key format', 'malformed key');
  const secret = deps.secrets.get(parsed.secretId);
  if (!secret) {
    throw refuse(deps, peer, status.UNAUTHENTICATED, 'Invalid API key', `key of unconfigured secret ${parsed.secretId}`);
  }

  const found = await orDatabaseFailure(deps, 'API key lookup failed', () => findApiKeyByHash(deps.db, hashApiKey(key, secret)), { peer });
  if (!found || found.tenantId !== deps.tenantId) {
    throw refuse(deps, peer, status.UNAUTHENTICATED, 'Invalid API key', 'unknown key');
  }
  if (found.revokedAt !== null) {
    throw refuse(deps, peer, status.PERMISSION_DENIED, 'API key has been revoked', `revoked key ${found.id}`);
  }
  const apiKeyId = found.id;
  if (!lastUsedIsFresh(found.lastUsedAt)) {
    // Bookkeeping only: a failure here must not fail the sensor's call.
    await touchApiKeyLastUsed(deps.db, apiKeyId).catch((error: unknown) => {
      deps.logger.warn({ err: error, apiKeyId }, 'could not record API key use');
    });
  }
  deps.onAuthenticated?.(peer);
  return { apiKeyId, tenantId: found.tenantId };
}
