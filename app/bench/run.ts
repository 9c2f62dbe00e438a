/**
 * `npm run bench [-- --seconds 10 --rounds 3 --dialects sqlite,postgres --out bench/results]`
 *
 * Benchmarks the real sensor API in this process on 127.0.0.1, per database dialect:
 * ReportEvents ingestion over gRPC (from sensors in a separate process sending pre-encoded
 * requests, see report.ts INGESTION_CLIENT) against a direct-insert baseline, in alternating
 * rounds (baseline, gRPC, baseline, gRPC, ...) so that drifts in the machine's speed hit both
 * sides alike, each side on one fresh database for all its rounds and reported by the median
 * over them; then a stage-by-stage cost of one batch, and on another fresh database SyncRules
 * latency with and without an ETag hit, and /readyz latency; then, on a third, a normal
 * sensor beside hostile clients (see hostile-clients.ts). Writes <out>/latest.json and
 * prints a summary. Databases, temp files and servers are removed at the end, also on failure
 * or Ctrl-C.
 */
import { performance } from 'node:perf_hooks';
import type { Counter } from 'prom-client';
import { createApiKey } from '../src/db/api-keys.js';
import { createRule } from '../src/db/rules.js';
import { DEFAULT_TENANT_ID, type Database, type Dialect } from '../src/db/types.js';
import { describeUserError, UserError } from '../src/errors.js';
import type { Rule } from '../src/rules/model.js';
import type { NewRule } from '../src/rules/validate.js';
import { createBenchDatabase, type BenchDatabase } from './bench-database.js';
import { startBenchServices, type BenchServices } from './bench-services.js';
import { CleanupStack } from './cleanup.js';
import { buildEventPool, matchesFor } from './event-batches.js';
import { measureHostileClients, type HostileClientsResult } from './hostile-clients.js';
import type { GrpcLoadSpec } from './grpc-load.js';
import {
  directInsertRounds, grpcIngestionRounds, type ClientSide, type IngestionRounds, type IngestionSettings,
} from './ingestion.js';
import { currentLoadAverage, machineFacts } from './machine.js';
import { parseBenchOptions, type BenchOptions } from './options.js';
import { measureReadyzLatency } from './readyz-latency.js';
import {
  compareToBaseline, formatSummary, INGESTION_CLIENT, INGESTION_TARGET_RATIO, writeResults,
  type BenchResults, type DialectResults, type IngestionComparison,
} from './report.js';
import { measureStageCosts } from './stage-costs.js';
import { measureSyncLatency } from './sync-latency.js';
import { startSyncProbe, SYNC_PROBE_INTERVAL_MS } from './sync-probe.js';
import { summarizeLatencies } from './stats.js';
import { ingestionRules, syncRuleSet } from './workload-rules.js';

const PAYLOAD_POOL_SIZE = 1000;
const PAYLOAD_SEED = 20240601;
const WARMUP_BATCHES_PER_STREAM = 3;
const STAGE_COST_ITERATIONS = 30;
const SYNC_WARMUP_CALLS = 20;
const READYZ_WARMUP_REQUESTS = 50;
const SENSORS_IN: Record<ClientSide, string> = { process: 'a separate process', main: 'the server\'s thread' };

/** ReportEvents over gRPC with the sensors on one client side, on a database and server of its own. */
interface GrpcSide {
  clientSide: ClientSide;
  ingestDb: BenchDatabase;
  services: BenchServices;
  ingestion: IngestionRounds;
  /** SyncRules latencies of the probe that ran beside this side's rounds. */
  syncDuringIngestionMs: number[];
}

function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

async function counterValue(counter: Counter): Promise<number> {
  return (await counter.get()).values.reduce((sum, value) => sum + value.value, 0);
}

async function createRules(db: Database, rules: readonly NewRule[]): Promise<Rule[]> {
  const created: Rule[] = [];
  for (const rule of rules) created.push(await createRule(db, DEFAULT_TENANT_ID, rule));
  return created;
}

async function benchDialect(dialect: Dialect, options: BenchOptions, cleanup: CleanupStack): Promise<DialectResults> {
  const pool = buildEventPool(PAYLOAD_POOL_SIZE, PAYLOAD_SEED);
  const rules = ingestionRules().slice(0, options.rules);
  const settings: IngestionSettings = {
    streams: options.streams,
    batchSize: options.batchSize,
    plan: options.batches === undefined
      ? { kind: 'duration', durationMs: options.seconds * 1000 }
      : { kind: 'operations', operations: options.batches },
    warmupBatchesPerStream: WARMUP_BATCHES_PER_STREAM,
  };
  const serverWarnings: string[] = [];

  progress(`${dialect}: setting up the baseline (direct inserts) and ReportEvents over gRPC`);
  const baselineDb = await createBenchDatabase(dialect, cleanup);
  const baselineRules = await createRules(baselineDb.db, rules);
  // A real key row, so the stored api_key_id is what ReportEvents would store; never used to call.
  const { record } = await createApiKey(baselineDb.db, DEFAULT_TENANT_ID, 'benchmark baseline', {
    id: '0'.repeat(32),
    secret: Buffer.alloc(32, 7),
  });
  const matches = pool.payloads.map((payload) => matchesFor(baselineRules, payload));
  const baseline = directInsertRounds(baselineDb.db, record.id, pool, matches, settings);
  const grpcSides: GrpcSide[] = [];
  for (const clientSide of options.clientSides) {
    const ingestDb = await createBenchDatabase(dialect, cleanup);
    await createRules(ingestDb.db, rules);
    const services = await startBenchServices(ingestDb.db, options.ingestWorkers, cleanup);
    const spec: GrpcLoadSpec = {
      ...settings,
      port: services.grpcPort,
      apiKey: services.apiKey,
      payloadPoolSize: PAYLOAD_POOL_SIZE,
      payloadSeed: PAYLOAD_SEED,
    };
    const ingestion = grpcIngestionRounds(ingestDb.db, spec, clientSide, cleanup);
    grpcSides.push({ clientSide, ingestDb, services, ingestion, syncDuringIngestionMs: [] });
  }

  for (let round = 1; round <= options.rounds; round++) {
    progress(`${dialect}: round ${round} of ${options.rounds}: baseline (direct inserts)`);
    await baseline.runRound();
    for (const side of grpcSides) {
      progress(`${dialect}: round ${round} of ${options.rounds}: ReportEvents over gRPC, sensors in ${SENSORS_IN[side.clientSide]}`);
      const probe = await startSyncProbe(side.services.grpcPort, side.services.apiKey, SYNC_PROBE_INTERVAL_MS, cleanup);
      await side.ingestion.runRound();
      side.syncDuringIngestionMs.push(...(await probe.stop()));
    }
  }
  const baselineResult = baseline.result();
  await baselineDb.drop();

  const grpc: IngestionComparison['grpc'] = {};
  for (const { clientSide, services, ingestion, syncDuringIngestionMs } of grpcSides) {
    await ingestion.close();
    const transactions = await counterValue(services.metrics.eventWriteTransactions);
    const batchesWritten = await counterValue(services.metrics.eventWriteBatches);
    grpc[clientSide] = compareToBaseline(ingestion.result(), baselineResult, {
      batchesPerTransaction: Math.round((batchesWritten / transactions) * 100) / 100,
      syncRulesDuringIngestion: summarizeLatencies(syncDuringIngestionMs),
    });
  }
  const [first] = grpcSides;
  if (!first) throw new Error('no ingestion run took place');
  progress(`${dialect}: stage costs of one batch`);
  const stageCosts = await measureStageCosts({
    db: first.ingestDb.db,
    pool,
    batchSize: options.batchSize,
    apiKey: first.services.apiKey,
    secret: first.services.secret,
    logger: first.services.logger,
    iterations: STAGE_COST_ITERATIONS,
  });
  for (const { ingestDb, services } of grpcSides) {
    serverWarnings.push(...services.warnings.lines);
    await services.stop();
    await ingestDb.drop();
  }

  progress(`${dialect}: creating ${options.syncRules} rules for SyncRules`);
  const syncDb = await createBenchDatabase(dialect, cleanup);
  await createRules(syncDb.db, syncRuleSet(options.syncRules));
  const syncServices = await startBenchServices(syncDb.db, options.ingestWorkers, cleanup);
  progress(`${dialect}: SyncRules latency`);
  const syncRules = await measureSyncLatency(
    syncServices.grpcPort, syncServices.apiKey, options.syncRules, options.syncCalls, SYNC_WARMUP_CALLS, cleanup,
  );
  progress(`${dialect}: /readyz latency`);
  const readyz = await measureReadyzLatency(syncServices.opsPort, options.readyzRequests, READYZ_WARMUP_REQUESTS, cleanup);
  serverWarnings.push(...syncServices.warnings.lines);
  await syncServices.stop();
  await syncDb.drop();

  let hostileClients: HostileClientsResult | null = null;
  if (options.hostileSeconds > 0) {
    progress(`${dialect}: hostile clients (a sensor for ${options.hostileSeconds} s unloaded, then ${options.hostileSeconds} s beside them)`);
    const hostileDb = await createBenchDatabase(dialect, cleanup);
    hostileClients = await measureHostileClients(
      hostileDb.db,
      {
        seconds: options.hostileSeconds,
        ingestWorkers: options.ingestWorkers,
        createRules: async (count) => void (await createRules(hostileDb.db, syncRuleSet(count))),
      },
      cleanup,
    );
    await hostileDb.drop();
  }

  return {
    serverVersion: baselineDb.serverVersion,
    ingestion: { baseline: baselineResult, grpc, target: INGESTION_TARGET_RATIO },
    stageCosts,
    syncRules,
    readyz,
    hostileClients,
    serverWarnings,
  };
}

async function main(): Promise<void> {
  const options = parseBenchOptions(process.argv.slice(2));
  const cleanup = new CleanupStack();
  const interrupted = (signal: NodeJS.Signals): void => {
    progress(`${signal}: cleaning up`);
    void cleanup.runAll().then(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  const started = performance.now();
  const machine = machineFacts();
  const { outDir, batches, ...rest } = options;
  const settings: BenchResults['settings'] = { ...rest, batches: batches ?? null };
  try {
    const dialects: BenchResults['dialects'] = {};
    for (const dialect of options.dialects) dialects[dialect] = await benchDialect(dialect, options, cleanup);
    const results: BenchResults = {
      benchmark: 'trapperkeeper sensor-api',
      machine,
      loadAverageAtEnd: currentLoadAverage(),
      ingestionClient: INGESTION_CLIENT,
      settings,
      dialects,
      durationMs: Math.round(performance.now() - started),
    };
    const written = writeResults(outDir, results);
    process.stdout.write(`${formatSummary(results)}\n\nresults: ${written.join(', ')}\n`);
  } finally {
    const failures = await cleanup.runAll();
    for (const failure of failures) progress(`cleanup failed: ${failure}`);
    if (failures.length > 0) process.exitCode = 1;
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    process.stderr.write(`benchmark failed: ${error instanceof UserError ? describeUserError(error) : String((error as Error).stack ?? error)}\n`);
    process.exit(1);
  },
);
