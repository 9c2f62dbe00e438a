import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dialect } from '../src/db/types.js';
import type { HostileClientsResult, SensorPhase } from './hostile-clients.js';
import type { ClientSide, IngestionResult } from './ingestion.js';
import type { MachineFacts } from './machine.js';
import type { BenchOptions } from './options.js';
import type { StageCosts } from './stage-costs.js';
import type { LatencySummary } from './stats.js';
import { SYNC_PROBE_INTERVAL_MS } from './sync-probe.js';
import type { SyncLatencyResult } from './sync-latency.js';

/** ReportEvents must reach at least this share of the direct-insert rate. Reported, not asserted. */
export const INGESTION_TARGET_RATIO = 0.5;

/** What the benchmark's gRPC sensors do, written into every results file. */
export const INGESTION_CLIENT = [
  'Each of the --streams sensors is a grpc-js Client on its own HTTP/2 connection, in one separate OS process',
  '(child_process.fork, bench/grpc-load-child.ts) unless --clients main puts them on the server\'s thread.',
  'Every ReportEventsRequest is encoded with the proto types (proto-loader/protobufjs) before the warm-up:',
  'one request per batch of the payload cycle, holding only the events. Per batch a sensor copies that request,',
  'writes the batch\'s sequence number into the fixed-width digits of each event id, appends its own sensor_id',
  'and client_timestamp fields (concatenated protobuf messages merge), sends the bytes through an identity',
  'request serializer, and reads only accepted_count from the response bytes, skipping the per-event results',
  '(cost: stageCosts.clientPerBatchMs; the sensor process\'s whole CPU time per batch, grpc-js and HTTP/2',
  'included: ingestion.grpc.process.sensorProcessCpuMsPerBatch).',
  'Closed loop: a sensor sends its next batch once the last one is acknowledged; every batch must be accepted',
  'whole, and the events stored are counted in the database afterwards.',
].join(' ');

export interface GrpcIngestion extends IngestionResult {
  /** eventsPerSecond / the baseline's eventsPerSecond: the ratio of the medians. */
  ratio: number;
  /** Each round's eventsPerSecond / that of the baseline round just before it, for the spread. */
  roundRatios: number[];
  /** Judged on `ratio`. */
  meetsTarget: boolean;
  /**
   * Batches the server's EventWriter stored per transaction (group commit), warm-up included;
   * the baseline commits each batch on its own.
   */
  batchesPerTransaction: number;
  /** One sensor's SyncRules calls (ETag hit) during the rounds: whether ingestion holds up other calls. */
  syncRulesDuringIngestion: LatencySummary;
}

/** Baseline and gRPC rounds alternate (--rounds), each side on one database throughout. */
export interface IngestionComparison {
  baseline: IngestionResult;
  /** ReportEvents, by where the sensors ran (see --clients). */
  grpc: Partial<Record<ClientSide, GrpcIngestion>>;
  target: number;
}

export interface DialectResults {
  serverVersion: string;
  ingestion: IngestionComparison;
  /** Where a ReportEvents batch's time goes, stage by stage, timed one at a time outside the server. */
  stageCosts: StageCosts;
  syncRules: SyncLatencyResult;
  readyz: LatencySummary;
  /** A normal sensor unloaded and beside hostile clients; null with --hostile-seconds 0. */
  hostileClients: HostileClientsResult | null;
  /** Warnings the server logged during this dialect's runs (none in a healthy run). */
  serverWarnings: string[];
}

export interface BenchResults {
  benchmark: 'trapperkeeper sensor-api';
  machine: MachineFacts;
  loadAverageAtEnd: number;
  /** What the gRPC sensors do (INGESTION_CLIENT). */
  ingestionClient: string;
  settings: Omit<BenchOptions, 'outDir' | 'batches'> & { batches: number | null };
  dialects: Partial<Record<Dialect, DialectResults>>;
  durationMs: number;
}

const rateRatio = (eventsPerSecond: number, baselineEventsPerSecond: number): number =>
  Math.round((eventsPerSecond / baselineEventsPerSecond) * 1000) / 1000;

export function compareToBaseline(
  grpc: IngestionResult,
  baseline: IngestionResult,
  server: Pick<GrpcIngestion, 'batchesPerTransaction' | 'syncRulesDuringIngestion'>,
): GrpcIngestion {
  const ratio = rateRatio(grpc.eventsPerSecond, baseline.eventsPerSecond);
  const roundRatios = grpc.rounds.map((round, index) =>
    rateRatio(round.eventsPerSecond, baseline.rounds[index]?.eventsPerSecond ?? Number.NaN));
  return { ...grpc, ...server, ratio, roundRatios, meetsTarget: ratio >= INGESTION_TARGET_RATIO };
}

/** Writes latest.json and a timestamped copy; returns the paths written. */
export function writeResults(outDir: string, results: BenchResults): string[] {
  mkdirSync(outDir, { recursive: true });
  const text = `${JSON.stringify(results, null, 2)}\n`;
  const stamped = join(outDir, `bench-${results.machine.date.replace(/[:.]/g, '-')}.json`);
  const latest = join(outDir, 'latest.json');
  writeFileSync(stamped, text);
  writeFileSync(latest, text);
  return [latest, stamped];
}

const latency = (summary: LatencySummary): string => `p50 ${summary.p50Ms.toFixed(2)} ms, p99 ${summary.p99Ms.toFixed(2)} ms`;
const label = (text: string): string => `  ${text.padEnd(32)}`;
const rate = (eventsPerSecond: number): string => eventsPerSecond.toLocaleString('en-US');
const rates = (result: IngestionResult): string =>
  `${rate(result.eventsPerSecond).padStart(7)} events/s, rounds ${result.rounds.map((round) => rate(round.eventsPerSecond)).join(' / ')}`;
const perBatch = (result: IngestionResult): string =>
  `batch ${latency(result.batchLatency)}; ${result.matchesPerEvent} matches/event`
  + (result.sensorProcessCpuMsPerBatch === null ? '' : `; sensor process CPU ${result.sensorProcessCpuMsPerBatch.toFixed(2)} ms/batch`);
const cpuInUse = ({ cpuCores }: IngestionResult, cpus: number): string =>
  `CPU in use ${cpuCores.thisProcess.toFixed(2)}`
  + (cpuCores.sensorProcess === null ? '' : ` + sensors ${cpuCores.sensorProcess.toFixed(2)}`)
  + ` of ${cpus} cores`;
const ratioRange = (ratios: readonly number[]): string => `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`;

const stages = (perBatchMs: Record<string, number>): string =>
  Object.entries(perBatchMs).map(([stage, ms]) => `${stage} ${ms.toFixed(2)}`).join(', ');

const optionalLatency = (summary: LatencySummary | null): string => (summary ? latency(summary) : 'no call succeeded');
const sensorPhase = (phase: SensorPhase): string =>
  `SyncRules ${optionalLatency(phase.syncRules)}; ReportEvents ${optionalLatency(phase.reportEvents)}; `
  + `${phase.failures} failed; RSS ${phase.rssMb.start} -> max ${phase.rssMb.max} MB`;
const statuses = (byStatus: Record<string, number>): string =>
  Object.entries(byStatus).map(([status, count]) => `${count} ${status}`).join(', ');

function hostileLines(hostile: HostileClientsResult): string[] {
  const { idleConnections: idle, attack } = hostile;
  const failures = Object.entries(hostile.hostile.failuresByCall).map(([call, count]) => `${count} ${call}`).join(', ');
  return [
    `${label('hostile clients: unloaded')}${sensorPhase(hostile.unloaded)}`,
    `${label('hostile clients: under attack')}${sensorPhase(hostile.hostile)}${failures ? ` (${failures})` : ''}`,
    `${label('')}p99 x unloaded: SyncRules ${hostile.p99Ratio.syncRules ?? '-'}, ReportEvents ${hostile.p99Ratio.reportEvents ?? '-'}; `
      + `target (${hostile.target}): ${hostile.meetsTarget ? 'met' : 'NOT met'}`,
    `${label('')}idle connections: ${idle.opened} opened from ${idle.fromAddresses} addresses, open ${idle.openAtStart} -> ${idle.openAtEnd}; `
      + `server shed ${statuses(idle.shedByServer) || 0}, refused ${statuses(idle.refusedByServer) || 0}`,
    `${label('')}oversized batches (${attack.oversizedBatches.eventsPerBatch.toLocaleString('en-US')} events): ${statuses(attack.oversizedBatches.byStatus)}; `
      + `tag bombs (${attack.tagBombs.tagsPerCall} x ${attack.tagBombs.tagBytes} B): ${statuses(attack.tagBombs.byStatus)}`,
  ];
}

export function formatSummary(results: BenchResults): string {
  const { machine, settings } = results;
  const lines = [
    `TrapperKeeper sensor-api benchmark, ${machine.date}`,
    `  ${machine.cpus} x ${machine.cpuModel}, node ${machine.nodeVersion}, load ${machine.loadAverageAtStart} -> ${results.loadAverageAtEnd}`,
    `  ingestion: ${settings.streams} streams x batches of ${settings.batchSize}, ${settings.rules} active rules`,
    `  rounds: ${settings.rounds} x ${settings.batches === null ? `${settings.seconds} s` : `${settings.batches} batches`} per side,`
      + ' baseline and gRPC alternating; events/s is the median over rounds',
    `  sensors: requests pre-encoded before the run; in a separate process (or on the server's thread: "main")`,
    `  server: ${settings.ingestWorkers} ingestion worker thread(s) (sensor_api.ingest_workers)`,
  ];
  for (const [dialect, result] of Object.entries(results.dialects)) {
    const { ingestion, stageCosts } = result;
    lines.push(
      '',
      `${dialect} (${result.serverVersion.split(' on ')[0] ?? result.serverVersion})`,
      `${label('baseline (insertEvents)')}${rates(ingestion.baseline)}`,
      `${label('')}${perBatch(ingestion.baseline)}; 1 batch per transaction; ${cpuInUse(ingestion.baseline, machine.cpus)}`,
    );
    for (const [side, grpc] of Object.entries(ingestion.grpc)) {
      lines.push(
        `${label(`ReportEvents, sensors in ${side}`)}${rates(grpc)}; ${grpc.ratio.toFixed(2)} x baseline `
          + `(per round ${ratioRange(grpc.roundRatios)}; target >= ${ingestion.target}: ${grpc.meetsTarget ? 'met' : 'NOT met'})`,
        `${label('')}${perBatch(grpc)}; ${grpc.batchesPerTransaction.toFixed(2)} batches per transaction; ${cpuInUse(grpc, machine.cpus)}`,
        `${label('')}SyncRules meanwhile (ETag hit, one sensor every ${SYNC_PROBE_INTERVAL_MS} ms) ${latency(grpc.syncRulesDuringIngestion)}`,
      );
    }
    lines.push(
      `${label('one batch, server stages (ms)')}${stages(stageCosts.serverPerBatchMs)}`,
      `${label('one batch, sensor side (ms)')}${stages(stageCosts.clientPerBatchMs)}`,
      `${label(`SyncRules, ${result.syncRules.rulesServed} rules`)}full ${latency(result.syncRules.fullSync)}; ETag hit ${latency(result.syncRules.etagHit)}`,
      `${label('/readyz')}${latency(result.readyz)}`,
    );
    if (result.hostileClients) lines.push(...hostileLines(result.hostileClients));
    if (result.serverWarnings.length > 0) lines.push(`  server warnings: ${result.serverWarnings.length} (see the JSON)`);
  }
  return lines.join('\n');
}
