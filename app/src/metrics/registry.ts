import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PoolStats } from '../db/types.js';

export interface BuildInfo {
  version: string;
  commit: string;
  buildDate: string;
}

/**
 * The process's Prometheus metrics, all prefixed `trapperkeeper_` except `app_version_info`.
 * Labels are bounded: gRPC method names, HTTP route templates (never raw paths), status codes.
 */
export interface Metrics {
  registry: Registry;
  grpcRequests: Counter<'method' | 'code'>;
  grpcDuration: Histogram<'method' | 'code'>;
  httpRequests: Counter<'service' | 'method' | 'route' | 'code'>;
  httpDuration: Histogram<'service' | 'method' | 'route' | 'code'>;
  eventsAccepted: Counter;
  eventsRejected: Counter;
  eventWriteTransactions: Counter;
  eventWriteBatches: Counter;
  ruleSyncs: Counter;
  ruleSyncEtagHits: Counter;
  ruleSyncCacheBytes: Gauge;
  ruleSyncCacheTagSets: Gauge;
  grpcConnections: Gauge;
  grpcConnectionsShed: Counter<'reason'>;
  grpcConnectionsRefused: Counter<'reason'>;
}

export function createMetrics(build: BuildInfo, pool: () => PoolStats | undefined): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'trapperkeeper_' });
  const startedAt = Date.now();

  new Gauge({
    name: 'app_version_info',
    help: 'Build of the running server; the value is always 1.',
    labelNames: ['version', 'commit', 'build_date'],
    registers: [registry],
  }).set({ version: build.version, commit: build.commit, build_date: build.buildDate }, 1);
  new Gauge({
    name: 'trapperkeeper_uptime_seconds',
    help: 'Seconds since the process started.',
    registers: [registry],
    collect() {
      this.set((Date.now() - startedAt) / 1000);
    },
  });
  new Gauge({
    name: 'trapperkeeper_db_pool_connections',
    help: 'Database pool connections by state.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const stats = pool();
      if (!stats) return;
      this.set({ state: 'in_use' }, stats.inUse);
      this.set({ state: 'idle' }, stats.idle);
      this.set({ state: 'max' }, stats.max);
    },
  });

  return {
    registry,
    grpcRequests: new Counter({
      name: 'trapperkeeper_grpc_requests_total',
      help: 'gRPC calls by method and status code.',
      labelNames: ['method', 'code'],
      registers: [registry],
    }),
    grpcDuration: new Histogram({
      name: 'trapperkeeper_grpc_request_duration_seconds',
      help: 'gRPC call duration by method and status code.',
      labelNames: ['method', 'code'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    httpRequests: new Counter({
      name: 'trapperkeeper_http_requests_total',
      help: 'HTTP requests by service, method, route template and status code.',
      labelNames: ['service', 'method', 'route', 'code'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'trapperkeeper_http_request_duration_seconds',
      help: 'HTTP request duration by service, method, route template and status code.',
      labelNames: ['service', 'method', 'route', 'code'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    eventsAccepted: new Counter({
      name: 'trapperkeeper_events_accepted_total',
      help: 'Events accepted by ReportEvents.',
      registers: [registry],
    }),
    eventsRejected: new Counter({
      name: 'trapperkeeper_events_rejected_total',
      help: 'Events rejected by ReportEvents.',
      registers: [registry],
    }),
    eventWriteTransactions: new Counter({
      name: 'trapperkeeper_event_write_transactions_total',
      help: 'Transactions that stored ReportEvents batches (batches arriving together share one).',
      registers: [registry],
    }),
    eventWriteBatches: new Counter({
      name: 'trapperkeeper_event_write_batches_total',
      help: 'ReportEvents batches written; divided by the transactions, the batches per commit.',
      registers: [registry],
    }),
    ruleSyncs: new Counter({
      name: 'trapperkeeper_rule_syncs_total',
      help: 'SyncRules calls answered.',
      registers: [registry],
    }),
    ruleSyncEtagHits: new Counter({
      name: 'trapperkeeper_rule_sync_etag_hits_total',
      help: 'SyncRules calls answered "not modified" because the sensor sent the current ETag.',
      registers: [registry],
    }),
    ruleSyncCacheBytes: new Gauge({
      name: 'trapperkeeper_rule_sync_cache_bytes',
      help: 'Memory (estimated) the rules served per sensor tag set hold; bounded by sensor_api.sync_cache_max_bytes.',
      registers: [registry],
    }),
    ruleSyncCacheTagSets: new Gauge({
      name: 'trapperkeeper_rule_sync_cache_tag_sets',
      help: 'Sensor tag sets whose served rules are remembered between syncs.',
      registers: [registry],
    }),
    grpcConnections: new Gauge({
      name: 'trapperkeeper_grpc_connections',
      help: 'Open sensor API TCP connections.',
      registers: [registry],
    }),
    grpcConnectionsShed: new Counter({
      name: 'trapperkeeper_grpc_connections_shed_total',
      help: 'Sensor API connections closed before making a call with a valid key: to make room at max_connections or max_connections_per_address, or at handshake_timeout_ms.',
      labelNames: ['reason'],
      registers: [registry],
    }),
    grpcConnectionsRefused: new Counter({
      name: 'trapperkeeper_grpc_connections_refused_total',
      help: 'Sensor API connections closed on arrival: the limit was reached and every connection in the way had made a call with a valid key.',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}
