import { connectSensorClient, type SensorClient } from '../test/support/sensor-client.js';
import type { CleanupStack } from './cleanup.js';
import { timeSequential } from './load-loop.js';
import { summarizeLatencies, type LatencySummary } from './stats.js';

export interface SyncLatencyResult {
  rulesServed: number;
  /** Full reply: every rule, encoded, sent and decoded by the client. */
  fullSync: LatencySummary;
  /** `if-none-match` carries the current ETag: the reply has no rules. */
  etagHit: LatencySummary;
}

const SENSOR_TAGS = ['env=prod', 'region=eu-west-1'];

/** A sensor's first sync: how many rules it got, and the ETag to send from then on. */
export async function firstSync(client: SensorClient, apiKey: string): Promise<{ served: number; etag: string }> {
  const { response } = await client.syncRules({ tags: SENSOR_TAGS }, { apiKey });
  return { served: (response.rules as unknown[]).length, etag: String(response.etag) };
}

/** A sync whose `if-none-match` carries the current ETag; fails unless it comes back empty. */
export async function etagHitSync(client: SensorClient, apiKey: string, etag: string): Promise<void> {
  const { response } = await client.syncRules({ tags: SENSOR_TAGS }, { apiKey, metadata: { 'if-none-match': etag } });
  if ((response.rules as unknown[]).length !== 0 || response.etag !== etag) {
    throw new Error('an if-none-match sync with the current ETag did not come back empty');
  }
}

/** Sequential SyncRules calls from one real client, after `warmup` untimed calls of each kind. */
export async function measureSyncLatency(
  grpcPort: number,
  apiKey: string,
  expectedRules: number,
  calls: number,
  warmup: number,
  cleanup: CleanupStack,
): Promise<SyncLatencyResult> {
  const client = connectSensorClient(grpcPort);
  const close = cleanup.add('close the SyncRules client', () => client.close());
  try {
    const { served, etag } = await firstSync(client, apiKey);
    if (served !== expectedRules) throw new Error(`SyncRules served ${served} rules, expected ${expectedRules}`);

    const fullSync = await timeSequential(warmup, calls, async () => {
      const { response } = await client.syncRules({ tags: SENSOR_TAGS }, { apiKey });
      if ((response.rules as unknown[]).length !== expectedRules) throw new Error('a full sync came back incomplete');
    });
    const etagHit = await timeSequential(warmup, calls, () => etagHitSync(client, apiKey, etag));
    return { rulesServed: served, fullSync: summarizeLatencies(fullSync), etagHit: summarizeLatencies(etagHit) };
  } finally {
    await close();
  }
}
