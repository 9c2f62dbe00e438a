import { insertEvents, type RuleMatch } from '../src/db/events.js';
import { DEFAULT_TENANT_ID, type Database } from '../src/db/types.js';
import { countRows } from './bench-database.js';
import type { CleanupStack } from './cleanup.js';
import { storedBatch, type EventPool } from './event-batches.js';
import { currentLoadAverage } from './machine.js';
import { createGrpcLoad, type GrpcLoadSpec, type LoadDriver } from './grpc-load.js';
import { createGrpcLoadProcess } from './grpc-load-process.js';
import { closedLoop, type LoadPlan, type LoadResult } from './load-loop.js';
import { median, perSecond, summarizeLatencies, type LatencySummary } from './stats.js';

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

/** One timed run (a round) of one side. */
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
  cpuCores: CpuCores;
}

/**
 * Cores kept busy on average during the timed run: whether the machine was saturated. This
 * process is the baseline's inserter, or the server (with the sensors too when they run on
 * its thread); the sensor process is null when there is none.
 */
export interface CpuCores {
  thisProcess: number;
  sensorProcess: number | null;
}

/** One side of the comparison over all its rounds. */
export interface IngestionResult {
  /** The median of the rounds' eventsPerSecond: the headline number. */
  eventsPerSecond: number;
  /** Over every timed batch of every round, as are the two below. */
  batchLatency: LatencySummary;
  matchesPerEvent: number;
  sensorProcessCpuMsPerBatch: number | null;
  cpuCores: CpuCores;
  rounds: ThroughputResult[];
}

/** One side of the comparison, set up once and timed round after round. */
export interface IngestionRounds {
  /** Warms up before the first round only; every event a round sent must have been stored. */
  runRound(): Promise<void>;
  result(): IngestionResult;
  close(): Promise<void>;
}

interface TimedRun {
  load: LoadResult;
  storedEvents: number;
  storedMatches: number;
  thisProcessCpuMs: number;
}

const cores = (cpuMs: number, elapsedMs: number): number => Math.round((cpuMs / elapsedMs) * 100) / 100;

function throughput({ load, storedEvents, storedMatches, thisProcessCpuMs }: TimedRun, batchSize: number): Omit<ThroughputResult, 'loadAverageAfter'> {
  const events = load.operations * batchSize;
  return {
    batches: load.operations,
    events,
    elapsedMs: Math.round(load.elapsedMs),
    eventsPerSecond: perSecond(events, load.elapsedMs),
    batchLatency: summarizeLatencies(load.latenciesMs),
    storedEvents,
    storedMatches,
    matchesPerEvent: Math.round((storedMatches / storedEvents) * 1000) / 1000,
    sensorProcessCpuMsPerBatch:
      load.loadProcessCpuMs === undefined ? null : Math.round((load.loadProcessCpuMs / load.operations) * 1000) / 1000,
    cpuCores: {
      thisProcess: cores(thisProcessCpuMs, load.elapsedMs),
      sensorProcess: load.loadProcessCpuMs === undefined ? null : cores(load.loadProcessCpuMs, load.elapsedMs),
    },
  };
}

/** The runs as if they were one. */
function pooled(runs: readonly TimedRun[]): TimedRun {
  const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);
  const cpuMs = runs.map((run) => run.load.loadProcessCpuMs);
  return {
    load: {
      operations: sum(runs.map((run) => run.load.operations)),
      elapsedMs: sum(runs.map((run) => run.load.elapsedMs)),
      latenciesMs: runs.flatMap((run) => run.load.latenciesMs),
      loadProcessCpuMs: cpuMs.every((ms) => ms !== undefined) ? sum(cpuMs) : undefined,
    },
    storedEvents: sum(runs.map((run) => run.storedEvents)),
    storedMatches: sum(runs.map((run) => run.storedMatches)),
    thisProcessCpuMs: sum(runs.map((run) => run.thisProcessCpuMs)),
  };
}

/** A round: row counts, the timed run, row counts again. */
function ingestionRounds(db: Database, batchSize: number, driver: LoadDriver): IngestionRounds {
  const runs: TimedRun[] = [];
  const rounds: ThroughputResult[] = [];
  return {
    runRound: async () => {
      if (runs.length === 0) await driver.warmup();
      const eventsBefore = await countRows(db, 'events');
      const matchesBefore = await countRows(db, 'event_rule_matches');
      const cpuBefore = process.cpuUsage();
      const load = await driver.run();
      const cpuUsed = process.cpuUsage(cpuBefore);
      const storedEvents = (await countRows(db, 'events')) - eventsBefore;
      const storedMatches = (await countRows(db, 'event_rule_matches')) - matchesBefore;
      const events = load.operations * batchSize;
      if (storedEvents !== events) {
        throw new Error(`${events} events were sent but ${storedEvents} were stored: the measurement is void`);
      }
      const run = { load, storedEvents, storedMatches, thisProcessCpuMs: (cpuUsed.user + cpuUsed.system) / 1000 };
      runs.push(run);
      rounds.push({ ...throughput(run, batchSize), loadAverageAfter: currentLoadAverage() });
    },
    result: () => {
      const { batchLatency, matchesPerEvent, sensorProcessCpuMsPerBatch, cpuCores } = throughput(pooled(runs), batchSize);
      const eventsPerSecond = Math.round(median(rounds.map((round) => round.eventsPerSecond)));
      return { eventsPerSecond, batchLatency, matchesPerEvent, sensorProcessCpuMsPerBatch, cpuCores, rounds };
    },
    close: () => driver.close(),
  };
}

/** ReportEvents over real gRPC against the running server (see grpc-load.ts). */
export function grpcIngestionRounds(db: Database, spec: GrpcLoadSpec, clientSide: ClientSide, cleanup: CleanupStack): IngestionRounds {
  const driver = clientSide === 'process' ? createGrpcLoadProcess(spec) : createGrpcLoad(spec);
  return ingestionRounds(db, spec.batchSize, { ...driver, close: cleanup.add('close the gRPC load', () => driver.close()) });
}

/**
 * The baseline: the same rows (events and their precomputed matches) stored through the same
 * Database adapter and the same insertEvents SQL, with the same concurrency, but no gRPC, no
 * authentication, no rule loading and no evaluation.
 */
export function directInsertRounds(
  db: Database,
  apiKeyId: string,
  pool: EventPool,
  matches: readonly RuleMatch[][],
  settings: IngestionSettings,
): IngestionRounds {
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
  return ingestionRounds(db, settings.batchSize, {
    warmup: async () => {
      await Promise.all(
        Array.from({ length: settings.streams }, async (_, worker) => {
          for (let batch = 0; batch < warmupBatches; batch++) await insert(worker, 'warmup', worker * warmupBatches + batch);
        }),
      );
    },
    run: closedLoop(settings.streams, settings.plan, (sequence, worker) => insert(worker, 'timed', sequence)),
    close: async () => undefined,
  });
}
