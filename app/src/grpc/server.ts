import { createServer, type Server as NetServer } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { HmacSecret } from '../auth/hmac-secrets.js';
import {
  DEFAULT_SENSOR_API_SYNC_CACHE_MAX_BYTES, DEFAULT_SENSOR_API_SYNC_MAX_TAG_BYTES, DEFAULT_SENSOR_API_SYNC_MAX_TAGS,
  DEFAULT_SENSOR_API_SYNC_MAX_TOTAL_TAG_BYTES,
} from '../config/defaults.js';
import { startEventStore } from '../db/event-store.js';
import { DEFAULT_TENANT_ID, type Database } from '../db/types.js';
import {
  DEFAULT_SENSOR_API_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_SENSOR_API_IDLE_TIMEOUT_MS,
  DEFAULT_SENSOR_API_KEEPALIVE_TIME_MS,
  DEFAULT_SENSOR_API_KEEPALIVE_TIMEOUT_MS,
  DEFAULT_SENSOR_API_MAX_CONNECTIONS,
  DEFAULT_SENSOR_API_MAX_CONNECTIONS_PER_ADDRESS,
} from '../config/defaults.js';
import { UserError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { logRefusal } from '../log/refusal-log.js';
import type { Metrics } from '../metrics/registry.js';
import { ActiveRulesCache } from './active-rules-cache.js';
import { callMetricsInterceptor } from './call-metrics.js';
import { ConnectionGuard } from './connection-guard.js';
import { loadSensorApiDefinition, SENSOR_API_SERVICE } from './proto.js';
import { startBatchPreparer } from './ingest/pool.js';
import { reportEvents, type ReportEventsDeps } from './report-events.js';
import { syncRules, type SyncRulesDeps } from './sync-rules.js';
import type { SyncTagLimits } from './sync-rules-request.js';
import { unaryHandler } from './unary-handler.js';

export interface SensorApiDeps {
  host: string;
  /** 0 picks a free port (see SensorApiServer.port). */
  port: number;
  maxBatchSize: number;
  /**
   * Threads that decode, check and evaluate ReportEvents batches; 0 does it on the main thread.
   * Above 0, a SQLite file's events are also written on a thread of their own (see startEventStore).
   */
  ingestWorkers: number;
  /** Largest request accepted; a bigger one is answered RESOURCE_EXHAUSTED. */
  maxMessageBytes: number;
  /**
   * Concurrent TCP connections. At this limit, and at `maxConnectionsPerAddress` for one client
   * address, a new connection takes the place of the oldest that never made a call with a
   * valid key; it is refused only when all of them have (see ConnectionGuard). @default 1000
   */
  maxConnections?: number;
  /** Tags a SyncRules call may send; beyond them it is INVALID_ARGUMENT. @default DEFAULT_SYNC_TAG_LIMITS */
  syncTagLimits?: SyncTagLimits;
  /** Memory bound of the rules served per tag set, remembered between syncs. @default DEFAULT_SENSOR_API_SYNC_CACHE_MAX_BYTES */
  syncCacheMaxBytes?: number;
  /** @default 100 */
  maxConnectionsPerAddress?: number;
  /** A connection that has not sent the HTTP/2 preface by then is closed. @default 10000 */
  handshakeTimeoutMs?: number;
  /** A connection with no call for this long is closed (GOAWAY). @default 300000 */
  idleTimeoutMs?: number;
  /** The server pings each connection this often... @default 120000 */
  keepaliveTimeMs?: number;
  /** ...and closes it when the ping is not answered within this. @default 20000 */
  keepaliveTimeoutMs?: number;
  db: Database;
  logger: Logger;
  metrics: Metrics;
  /** Every configured secret: keys issued under any of them verify. */
  hmacSecrets: HmacSecret[];
  /** @default DEFAULT_TENANT_ID */
  tenantId?: string;
}

export interface SensorApiServer {
  port: number;
  /** Health status of the server and the SensorAPI service (grpc.health.v1). */
  setServing(serving: boolean): void;
  /**
   * Stops accepting connections and calls, lets in-flight calls finish for up to
   * `timeoutMs`, then cuts whatever is left. Safe to call more than once.
   */
  drain(timeoutMs: number): Promise<void>;
}

const DEFAULT_SYNC_TAG_LIMITS: SyncTagLimits = {
  maxTags: DEFAULT_SENSOR_API_SYNC_MAX_TAGS,
  maxTagBytes: DEFAULT_SENSOR_API_SYNC_MAX_TAG_BYTES,
  maxTotalTagBytes: DEFAULT_SENSOR_API_SYNC_MAX_TOTAL_TAG_BYTES,
};
/** Concurrent calls per connection; a sensor needs few, so a flood on one connection is capped. */
const MAX_CONCURRENT_STREAMS = 100;

function listen(server: NetServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function listenFailure(error: unknown, host: string, port: number): unknown {
  const code = (error as { code?: unknown }).code;
  if (code === 'EADDRINUSE') {
    return new UserError(
      `The sensor API cannot listen on ${host}:${port}: the port is already in use`,
      'stop the process using it, or set sensor_api.port to a free port',
    );
  }
  if (code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    return new UserError(
      `The sensor API cannot listen on ${host}:${port} (${String(code)})`,
      'use a port above 1023 and a host address of this machine (0.0.0.0 for all)',
    );
  }
  return error;
}

/**
 * The service as proto-loader defines it, except that requests reach the handlers as bytes,
 * decoded by the server itself after the caller's key is verified: malformed bytes are the
 * caller's INVALID_ARGUMENT, and limits apply while decoding (see sync-rules-request.ts).
 * ReportEvents responses also leave as bytes: its requests are decoded, and its responses
 * encoded, on an ingestion worker (see ingest/prepare-batch.ts).
 */
const asBytes = (bytes: Buffer): Buffer => bytes;

function serverServiceDefinition(): grpc.ServiceDefinition {
  const { service } = loadSensorApiDefinition();
  const { ReportEvents: reportEventsMethod, SyncRules: syncRulesMethod } = service;
  if (!reportEventsMethod || !syncRulesMethod) throw new Error(`${SENSOR_API_SERVICE} lacks ReportEvents or SyncRules`);
  return {
    ...service,
    SyncRules: { ...syncRulesMethod, requestDeserialize: asBytes },
    ReportEvents: { ...reportEventsMethod, requestDeserialize: asBytes, responseSerialize: asBytes },
  };
}

/**
 * Starts the sensor API: `trapperkeeper.sensor.v1.SensorAPI` (API key required) and the
 * standard `grpc.health.v1.Health` (no key) on one port.
 *
 * The TCP listener is ours and hands connections to grpc-js, because grpc-js has no
 * connection limit of its own: ConnectionGuard admits them. Idle and keepalive timeouts are
 * grpc-js's own (grpc.max_connection_idle_ms, grpc.keepalive_time_ms and _timeout_ms). grpc-js
 * enforces no policy on the client's pings, but they do not count as calls: a connection that
 * only pings is closed at the idle timeout like any other.
 */
export async function startSensorApi(deps: SensorApiDeps): Promise<SensorApiServer> {
  const service = serverServiceDefinition();
  const tenantId = deps.tenantId ?? DEFAULT_TENANT_ID;
  const logger = deps.logger.child({ service: 'sensor-api' });
  const secrets = new Map(deps.hmacSecrets.map((secret) => [secret.id, secret]));
  const batches = await startBatchPreparer({
    workers: deps.ingestWorkers,
    maxBatchSize: deps.maxBatchSize,
    maxMessageBytes: deps.maxMessageBytes,
    logger,
  });
  const events = await startEventStore(deps.db, {
    threaded: deps.ingestWorkers > 0,
    logger,
    onTransaction: (batchCount) => {
      deps.metrics.eventWriteTransactions.inc();
      deps.metrics.eventWriteBatches.inc(batchCount);
    },
  }).catch(async (error: unknown) => {
    await batches.close();
    throw error;
  });

  const guard = new ConnectionGuard(
    {
      maxConnections: deps.maxConnections ?? DEFAULT_SENSOR_API_MAX_CONNECTIONS,
      maxConnectionsPerAddress: deps.maxConnectionsPerAddress ?? DEFAULT_SENSOR_API_MAX_CONNECTIONS_PER_ADDRESS,
      handshakeTimeoutMs: deps.handshakeTimeoutMs ?? DEFAULT_SENSOR_API_HANDSHAKE_TIMEOUT_MS,
    },
    {
      shed: (reason, address) => {
        deps.metrics.grpcConnectionsShed.inc({ reason });
        // A flood of connections must not become a flood of log lines: the refusal log's limits apply.
        logRefusal(logger, reason === 'handshake_timeout' ? 'info' : 'warn', address, { peer: address, reason }, 'sensor API connection shed');
      },
      refused: (reason, address) => {
        deps.metrics.grpcConnectionsRefused.inc({ reason });
        logRefusal(logger, 'warn', address, { peer: address, reason }, 'sensor API connection refused: every connection in the way has authenticated');
      },
      count: (open) => deps.metrics.grpcConnections.set(open),
    },
  );
  const handlerDeps: SyncRulesDeps & ReportEventsDeps = {
    db: deps.db,
    secrets,
    tenantId,
    logger,
    metrics: deps.metrics,
    activeRules: new ActiveRulesCache(deps.db, {
      maxTagSetBytes: deps.syncCacheMaxBytes ?? DEFAULT_SENSOR_API_SYNC_CACHE_MAX_BYTES,
      onTagSetsResize: (bytes, tagSets) => {
        deps.metrics.ruleSyncCacheBytes.set(bytes);
        deps.metrics.ruleSyncCacheTagSets.set(tagSets);
      },
    }),
    syncTagLimits: deps.syncTagLimits ?? DEFAULT_SYNC_TAG_LIMITS,
    batches,
    events,
    onAuthenticated: (peer) => guard.noteAuthenticated(peer),
  };

  const server = new grpc.Server({
    'grpc.max_receive_message_length': deps.maxMessageBytes,
    'grpc.max_concurrent_streams': MAX_CONCURRENT_STREAMS,
    'grpc.enable_channelz': 0,
    // Room for a few maximal messages in flight per connection (the default is 10 MB).
    'grpc-node.max_session_memory': Math.max(10, Math.ceil((deps.maxMessageBytes * 4) / (1024 * 1024))),
    'grpc.max_connection_idle_ms': deps.idleTimeoutMs ?? DEFAULT_SENSOR_API_IDLE_TIMEOUT_MS,
    'grpc.keepalive_time_ms': deps.keepaliveTimeMs ?? DEFAULT_SENSOR_API_KEEPALIVE_TIME_MS,
    'grpc.keepalive_timeout_ms': deps.keepaliveTimeoutMs ?? DEFAULT_SENSOR_API_KEEPALIVE_TIMEOUT_MS,
    interceptors: [callMetricsInterceptor(deps.metrics)],
  });
  server.addService(service, {
    SyncRules: unaryHandler('SyncRules', logger, (call) => syncRules(call, handlerDeps)),
    ReportEvents: unaryHandler('ReportEvents', logger, (call) => reportEvents(call, handlerDeps)),
  });
  const health = new HealthImplementation({ '': 'SERVING', [SENSOR_API_SERVICE]: 'SERVING' });
  health.addToServer(server);
  const setServing = (serving: boolean) => {
    const state = serving ? 'SERVING' : 'NOT_SERVING';
    health.setStatus('', state);
    health.setStatus(SENSOR_API_SERVICE, state);
  };

  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const listener = createServer((socket) => {
    socket.on('error', (error) => logger.debug({ err: error }, 'sensor API connection error'));
    if (guard.admit(socket)) injector.injectConnection(socket);
  });
  let port: number;
  try {
    port = await listen(listener, deps.host, deps.port);
  } catch (error) {
    server.forceShutdown();
    await Promise.all([batches.close(), events.close()]);
    throw listenFailure(error, deps.host, deps.port);
  }
  logger.info({ host: deps.host, port, ingestWorkers: batches.workers, eventWriterThread: events.threaded }, 'sensor API listening');

  let drained: Promise<void> | undefined;
  const drain = (timeoutMs: number): Promise<void> => {
    drained ??= new Promise<void>((resolve) => {
      setServing(false);
      const listenerClosed = new Promise<void>((closed) => listener.close(() => closed()));
      // A connection that never sent a byte (a bare TCP probe) carries no call, but would keep
      // grpc-js waiting for its HTTP/2 session to close until the timeout.
      for (const socket of guard.sockets()) if (socket.bytesRead === 0) socket.destroy();
      const callsDone = new Promise<void>((done) => {
        const timer = setTimeout(() => {
          logger.warn({ timeoutMs }, 'sensor API drain timed out; cancelling the calls still running');
          server.forceShutdown();
          done();
        }, timeoutMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          done();
        });
      });
      void callsDone
        .then(() => {
          for (const socket of guard.sockets()) socket.destroy();
          guard.close();
          return Promise.all([listenerClosed, batches.close(), events.close()]);
        })
        .then(() => {
          logger.info('sensor API stopped');
          resolve();
        });
    });
    return drained;
  };

  return { port, setServing, drain };
}
