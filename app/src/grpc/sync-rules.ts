import { Metadata, status, type ServerUnaryCall } from '@grpc/grpc-js';
import type { Database } from '../db/types.js';
import type { Metrics } from '../metrics/registry.js';
import type { ActiveRulesCache } from './active-rules-cache.js';
import { authenticateSensor, type SensorAuthDeps } from './auth.js';
import { CallError } from './call-error.js';
import { orDatabaseFailure } from './database-failure.js';
import { decodeSyncRulesRequest, SyncRulesRequestError, type SyncTagLimits } from './sync-rules-request.js';
import type { UnaryReply } from './unary-handler.js';
import { toWireRule, type WireRule } from './wire-rule.js';

export interface SyncRulesResponse {
  rules: WireRule[];
  etag: string;
}

export const ETAG_METADATA = 'etag';
export const IF_NONE_MATCH_METADATA = 'if-none-match';

export interface SyncRulesDeps extends SensorAuthDeps {
  db: Database;
  metrics: Metrics;
  activeRules: ActiveRulesCache;
  syncTagLimits: SyncTagLimits;
}

/** Tolerates an HTTP-style quoted or weak ETag (`"abc"`, `W/"abc"`) as well as the bare value. */
function bareEtag(value: string): string {
  const unweak = value.startsWith('W/') ? value.slice(2) : value;
  return unweak.length >= 2 && unweak.startsWith('"') && unweak.endsWith('"') ? unweak.slice(1, -1) : unweak;
}

function requestTags(request: Buffer, limits: SyncTagLimits): string[] {
  try {
    return decodeSyncRulesRequest(request, limits).filter((tag) => tag.length > 0);
  } catch (error) {
    if (error instanceof SyncRulesRequestError) throw new CallError(status.INVALID_ARGUMENT, error.message);
    throw error;
  }
}

/**
 * SyncRules: the active rules in scope for the sensor's tags, with their ETag in the body
 * and in the `etag` response header. When the sensor's `if-none-match` is the current ETag
 * the rules are left out (nothing changed), the ETag is still sent.
 *
 * The request arrives as bytes and is decoded here, after the key is verified, within the
 * tag limits (see decodeSyncRulesRequest): malformed bytes or too many or too long tags are
 * INVALID_ARGUMENT.
 */
export async function syncRules(
  call: ServerUnaryCall<Buffer, SyncRulesResponse>,
  deps: SyncRulesDeps,
): Promise<UnaryReply<SyncRulesResponse>> {
  const principal = await authenticateSensor(call.metadata, call.getPeer(), deps);
  const tags = requestTags(call.request, deps.syncTagLimits);
  const served = await orDatabaseFailure(deps, 'SyncRules could not load rules', () =>
    deps.activeRules.forTags(principal.tenantId, tags));

  const headers = new Metadata();
  headers.set(ETAG_METADATA, served.etag);
  deps.metrics.ruleSyncs.inc();
  const ifNoneMatch = call.metadata.get(IF_NONE_MATCH_METADATA)[0];
  if (typeof ifNoneMatch === 'string' && bareEtag(ifNoneMatch) === served.etag) {
    deps.metrics.ruleSyncEtagHits.inc();
    return { response: { rules: [], etag: served.etag }, headers };
  }
  return { response: { rules: served.rules.map(toWireRule), etag: served.etag }, headers };
}
