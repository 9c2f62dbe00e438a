import { insertEvents, type RuleMatch } from '../src/db/events.js';
import { DEFAULT_TENANT_ID, type Database } from '../src/db/types.js';
import { countRows } from './bench-database.js';
import type { CleanupStack } from './cleanup.js';
import { storedBatch, type EventPool } from './event-batches.js';
import { currentLoadAverage } from './machine.js';
import { createGrpcLoad, type GrpcLoadSpec, type LoadDriver } from './grpc-load.js';
import { createGrpcLoadProcess } from './grpc-load-process.js';
import { runClosedLoop, type LoadPlan } from './load-loop.js';
import { perSecond, summarizeLatencies, type LatencySummary } from './stats.js';

export interface IngestionSettings {
  streams: number;
  batchSize: number;
  plan: LoadPlan;
  /** Untimed batches each stream sends first (connections, statement caches, JIT). */
  warmupBatchesPerStream: number;
}

/**
 * Where the gRPC sensors run: in a separate OS process, like real sensors, or in the server's
 * process, on its thread, so that their CPU is taken from the server's event loop.
 */
export type ClientSide = 'process' | 'main';

export interface ThroughputResult {
  batches: number;
  events: number;
  elapsedMs: number;
  eventsPerSecond: number;
  batchLatency: LatencySummary;
  /** Rows the timed batches added, counted in the database afterwards. */
  storedEvents: number;
  storedMatches: number;
  matchesPerEvent: number;
  /** The machine's 1-minute load average right after the run (this run included). */
  loadAverageAfter: number;
  /**
   * CPU milliseconds the sensors' process used per batch in the timed run, when they had a
   * process of their own (--clients process); null otherwise.
   */
  sensorProcessCpuMsPerBatch: number | null;
}

/** Warm-up, row counts, the timed run, row counts again: every timed event must have been stored. */
async function measure(db: Database, batchSize: number, driver: LoadDriver): Promise<ThroughputResult> {
  await driver.warmup();
  const eventsBefore = await countRows(db, 'events');
  const matchesBefore = await countRows(db, 'event_rule_matches');
  const load = await driver.run();
  const storedEvents = (await countRows(db, 'events')) - eventsBefore;
  const storedMatches = (await countRows(db, 'event_rule_matches')) - matchesBefore;
  const events = load.operations * batchSize;
  if (storedEvents !== events) {
    throw new Error(`${events} events were sent but ${storedEvents} were stored: the measurement is void`);
  }
  return {
    batches: load.operations,
    events,
    elapsedMs: Math.round(load.elapsedMs),
    eventsPerSecond: perSecond(events, load.elapsedMs),
    batchLatency: summarizeLatencies(load.latenciesMs),
    storedEvents,
    storedMatches,
    matchesPerEvent: Math.round((storedMatches / storedEvents) * 1000) / 1000,
    loadAverageAfter: currentLoadAverage(),
    sensorProcessCpuMsPerBatch:
      load.loadProcessCpuMs === undefined ? null : Math.round((load.loadProcessCpuMs / load.operations) * 1000) / 1000,
  };
}

/** ReportEvents over real gRPC against the running server (see grpc-load.ts). */
export async function measureGrpcIngestion(
  db: Database,
  spec: GrpcLoadSpec,
  clientSide: ClientSide,
  cleanup: CleanupStack,
): Promise<ThroughputResult> {
  const driver = clientSide === 'process' ? createGrpcLoadProcess(spec) : createGrpcLoad(spec);
  const close = cleanup.add('close the gRPC load', () => driver.close());
  try {
    return await measure(db, spec.batchSize, driver);
  } finally {
    await close();
  }
}

/**
 * The baseline: the same rows (events and their precomputed matches) stored through the same
 * Database adapter and the same insertEvents SQL, with the same concurrency, but no gRPC, no
 * authentication, no rule loading and no evaluation.
 */
export async function measureDirectInserts(
  db: Database,
  apiKeyId: string,
  pool: EventPool,
  matches: readonly RuleMatch[][],
  settings: IngestionSettings,
): Promise<ThroughputResult> {
  const insert = async (worker: number, label: string, sequence: number): Promise<void> => {
    const { stored } = await insertEvents(db, DEFAULT_TENANT_ID, {
      sensorId: `bench-sensor-${worker}`,
      apiKeyId,
      receivedAt: new Date(),
      events: storedBatch(pool, matches, label, sequence, settings.batchSize),
    });
    if (stored !== settings.batchSize) throw new Error(`a batch of ${settings.batchSize} stored ${stored} events`);
  };
  const warmupBatches = settings.warmupBatchesPerStream;
  return measure(db, settings.batchSize, {
    warmup: async () => {
      await Promise.all(
        Array.from({ length: settings.streams }, async (_, worker) => {
          for (let batch = 0; batch < warmupBatches; batch++) await insert(worker, 'warmup', worker * warmupBatches + batch);
        }),
      );
    },
    run: () => runClosedLoop(settings.streams, settings.plan, (sequence, worker) => insert(worker, 'timed', sequence)),
    close: async () => undefined,
  });
}
