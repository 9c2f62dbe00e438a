import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Counter } from 'prom-client';
import { DEFAULT_SENSOR_API_MAX_CONNECTIONS, DEFAULT_SENSOR_API_MAX_MESSAGE_BYTES } from '../src/config/defaults.js';
import { jsonToStruct } from '../src/grpc/struct.js';
import type { Database } from '../src/db/types.js';
import { HTTP2_CLIENT_PREFACE, openRawConnection, type RawConnection } from '../test/support/raw-connections.js';
import { connectSensorClient, type SensorClient } from '../test/support/sensor-client.js';
import { startBenchServices } from './bench-services.js';
import type { CleanupStack } from './cleanup.js';
import type { HostileReply, HostileReport, HostileSpec } from './hostile-child.js';
import { summarizeLatencies, type LatencySummary } from './stats.js';

/**
 * "Hostile clients": a normal sensor's SyncRules and ReportEvents, first on an unloaded
 * server, then while 1,000 idle TCP connections are held open (from ten loopback addresses,
 * half of them silent, half having sent only the HTTP/2 preface) and one client with a valid
 * key sends oversized ReportEvents batches and SyncRules tag bombs from another process.
 * Reports the sensor's failures and latencies in both phases, and the server's RSS (the
 * server runs in this process, with the sensor and the idle sockets).
 */

export const HOSTILE_TARGET = 'the normal sensor has no failures, and its p99 stays within 2x of the unloaded run';

/** The sensor's rules, and its pace: one SyncRules and one ReportEvents every SENSOR_PACE_MS. */
const SENSOR_RULES = 100;
const SENSOR_PACE_MS = 50;
const SENSOR_BATCH_SIZE = 10;
const SENSOR_DEADLINE_MS = 10_000;
const SENSOR_TAGS = ['env=prod', 'region=eu-west-1'];
const WARMUP_ITERATIONS = 20;
const IDLE_ADDRESSES = 10;
const ATTACK_PAUSE_MS = 500;
const TAGS_PER_BOMB = 2000;
const TAG_BYTES = 1000;
const RSS_SAMPLE_MS = 100;

export interface SensorPhase {
  seconds: number;
  syncRules: LatencySummary | null;
  reportEvents: LatencySummary | null;
  failures: number;
  /** Failed calls by method and status, e.g. "ReportEvents INTERNAL". */
  failuresByCall: Record<string, number>;
  rssMb: { start: number; max: number; end: number };
}

export interface HostileClientsResult {
  idleConnections: {
    opened: number;
    fromAddresses: number;
    /** Still open when the attack began, and when it ended (the server closes silent ones after handshake_timeout_ms). */
    openAtStart: number;
    openAtEnd: number;
    /** The server's counters by reason (trapperkeeper_grpc_connections_shed_total / _refused_total). */
    shedByServer: Record<string, number>;
    refusedByServer: Record<string, number>;
  };
  attack: HostileReport;
  unloaded: SensorPhase;
  hostile: SensorPhase;
  /** Hostile p99 / unloaded p99. */
  p99Ratio: { syncRules: number | null; reportEvents: number | null };
  target: string;
  meetsTarget: boolean;
  /** Warnings the server logged meanwhile (the first 20). */
  serverWarnings: string[];
}

const megabytes = (bytes: number): number => Math.round(bytes / 1024 / 102.4) / 10;

async function countsByReason(counter: Counter<'reason'>): Promise<Record<string, number>> {
  return Object.fromEntries((await counter.get()).values.map((value) => [String(value.labels.reason), value.value]));
}

/** One sensor, paced: SyncRules then a ReportEvents batch, every SENSOR_PACE_MS, for `seconds`. */
async function sensorPhase(client: SensorClient, apiKey: string, label: string, seconds: number, timed: boolean): Promise<SensorPhase> {
  const sync: number[] = [];
  const report: number[] = [];
  const failuresByCall: Record<string, number> = {};
  const rss = { start: process.memoryUsage.rss(), max: 0, end: 0 };
  rss.max = rss.start;
  const sampler = setInterval(() => {
    rss.max = Math.max(rss.max, process.memoryUsage.rss());
  }, RSS_SAMPLE_MS);
  const timedCall = async (name: string, samples: number[], run: () => Promise<unknown>) => {
    const begun = performance.now();
    try {
      await run();
      samples.push(performance.now() - begun);
    } catch (error) {
      const status = (error as { code?: number }).code;
      const key = `${name} ${status === undefined ? String(error) : status}`;
      failuresByCall[key] = (failuresByCall[key] ?? 0) + 1;
    }
  };
  const end = performance.now() + seconds * 1000;
  try {
    for (let iteration = 0; timed ? performance.now() < end : iteration < WARMUP_ITERATIONS; iteration++) {
      const begun = performance.now();
      await timedCall('SyncRules', sync, () => client.syncRules({ tags: SENSOR_TAGS }, { apiKey, deadlineMs: SENSOR_DEADLINE_MS }));
      const events = Array.from({ length: SENSOR_BATCH_SIZE }, (_, position) => ({
        eventId: `hostile-bench-${label}-${iteration}-${position}`,
        payload: jsonToStruct({ sensor: 'normal', iteration, position, celsius: 20 + (position % 7) }),
      }));
      await timedCall('ReportEvents', report, async () => {
        const { response } = await client.reportEvents({ events }, { apiKey, deadlineMs: SENSOR_DEADLINE_MS });
        if (response.acceptedCount !== SENSOR_BATCH_SIZE) throw new Error(`accepted ${String(response.acceptedCount)} of ${SENSOR_BATCH_SIZE}`);
      });
      const rest = SENSOR_PACE_MS - (performance.now() - begun);
      if (rest > 0) await sleep(rest);
    }
  } finally {
    clearInterval(sampler);
  }
  rss.end = process.memoryUsage.rss();
  return {
    seconds,
    syncRules: sync.length > 0 ? summarizeLatencies(sync) : null,
    reportEvents: report.length > 0 ? summarizeLatencies(report) : null,
    failures: Object.values(failuresByCall).reduce((sum, count) => sum + count, 0),
    failuresByCall,
    rssMb: { start: megabytes(rss.start), max: megabytes(rss.max), end: megabytes(rss.end) },
  };
}

/** The hostile client in its own process; resolves with what it sent and how each call ended. */
function runHostileClient(spec: HostileSpec, cleanup: CleanupStack): Promise<HostileReport> {
  const child = fork(fileURLToPath(new URL('./hostile-child.ts', import.meta.url)), [], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const kill = cleanup.add('stop the hostile client', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  });
  return new Promise<HostileReport>((resolve, reject) => {
    child.once('message', (reply: HostileReply) => {
      if (reply.ok) resolve(reply.report);
      else reject(new Error(`the hostile client failed: ${reply.error}`));
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => reject(new Error(`the hostile client exited (${signal ?? `code ${code}`}) before reporting`)));
    child.send(spec);
  }).finally(() => kill());
}

async function openIdleConnections(port: number, count: number): Promise<RawConnection[]> {
  const connections: RawConnection[] = [];
  for (let index = 0; index < count; index++) {
    const localAddress = `127.0.0.${2 + (index % IDLE_ADDRESSES)}`;
    const firstBytes = index % 2 === 0 ? undefined : HTTP2_CLIENT_PREFACE;
    connections.push(await openRawConnection(port, { localAddress, firstBytes }));
  }
  return connections;
}

const ratio = (hostile: LatencySummary | null, unloaded: LatencySummary | null): number | null =>
  hostile && unloaded ? Math.round((hostile.p99Ms / unloaded.p99Ms) * 100) / 100 : null;

/** Runs the scenario on `db` (fresh, migrated) with the server as `trapperkeeper sensor-api` starts it by default. */
export async function measureHostileClients(
  db: Database,
  settings: { seconds: number; ingestWorkers: number; createRules: (count: number) => Promise<void> },
  cleanup: CleanupStack,
): Promise<HostileClientsResult> {
  await settings.createRules(SENSOR_RULES);
  const services = await startBenchServices(db, settings.ingestWorkers, cleanup);
  const client = connectSensorClient(services.grpcPort);
  const closeClient = cleanup.add('close the hostile-clients sensor', () => client.close());
  let idle: RawConnection[] = [];
  const closeIdle = cleanup.add('close the idle connections', () => idle.forEach((connection) => connection.socket.destroy()));
  try {
    await sensorPhase(client, services.apiKey, 'warmup', 0, false);
    const unloaded = await sensorPhase(client, services.apiKey, 'unloaded', settings.seconds, true);

    idle = await openIdleConnections(services.grpcPort, DEFAULT_SENSOR_API_MAX_CONNECTIONS);
    await sleep(100);
    const openAtStart = idle.filter((connection) => !connection.isClosed()).length;
    const attackDone = runHostileClient(
      {
        port: services.grpcPort,
        apiKey: services.apiKey,
        durationMs: settings.seconds * 1000,
        pauseMs: ATTACK_PAUSE_MS,
        oversizedBytes: DEFAULT_SENSOR_API_MAX_MESSAGE_BYTES - 1024,
        tagsPerBomb: TAGS_PER_BOMB,
        tagBytes: TAG_BYTES,
      },
      cleanup,
    );
    // The sensor phase must not fail because the attacker did: keep its error for after.
    const attack = attackDone.then((report) => ({ report }), (error: unknown) => ({ error }));
    const hostile = await sensorPhase(client, services.apiKey, 'hostile', settings.seconds, true);
    const attackResult = await attack;
    if ('error' in attackResult) throw attackResult.error;
    const openAtEnd = idle.filter((connection) => !connection.isClosed()).length;

    const p99Ratio = { syncRules: ratio(hostile.syncRules, unloaded.syncRules), reportEvents: ratio(hostile.reportEvents, unloaded.reportEvents) };
    return {
      idleConnections: {
        opened: idle.length,
        fromAddresses: IDLE_ADDRESSES,
        openAtStart,
        openAtEnd,
        shedByServer: await countsByReason(services.metrics.grpcConnectionsShed),
        refusedByServer: await countsByReason(services.metrics.grpcConnectionsRefused),
      },
      attack: attackResult.report,
      unloaded,
      hostile,
      p99Ratio,
      target: HOSTILE_TARGET,
      meetsTarget: hostile.failures === 0 && [p99Ratio.syncRules, p99Ratio.reportEvents].every((value) => value !== null && value <= 2),
      serverWarnings: services.warnings.lines,
    };
  } finally {
    await closeIdle();
    await closeClient();
    await services.stop();
  }
}
