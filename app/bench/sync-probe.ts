import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { connectSensorClient } from '../test/support/sensor-client.js';
import type { CleanupStack } from './cleanup.js';
import { etagHitSync, firstSync } from './sync-latency.js';

export interface SyncProbe {
  /** Stops calling; resolves with every call's latency (ms). */
  stop(): Promise<number[]>;
}

/** The bench's probe pace during each gRPC round. */
export const SYNC_PROBE_INTERVAL_MS = 50;

/**
 * One sensor asking for its rules every `intervalMs` (ETag hit: nothing changed) while the
 * caller runs something else: how long rule syncs wait while the server ingests. Paced, so
 * that the probe itself adds next to no load.
 */
export async function startSyncProbe(grpcPort: number, apiKey: string, intervalMs: number, cleanup: CleanupStack): Promise<SyncProbe> {
  const client = connectSensorClient(grpcPort);
  const close = cleanup.add('close the SyncRules probe', () => client.close());
  const { etag } = await firstSync(client, apiKey);
  const latenciesMs: number[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const begun = performance.now();
      await etagHitSync(client, apiKey, etag);
      const tookMs = performance.now() - begun;
      latenciesMs.push(tookMs);
      await sleep(Math.max(0, intervalMs - tookMs));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      try {
        await loop;
      } finally {
        await close();
      }
      return latenciesMs;
    },
  };
}
