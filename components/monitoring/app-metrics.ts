/**
 * The TrapperKeeper server's metrics as the alert rules and dashboards read them. The names are
 * the app's (app/src/metrics/registry.ts registers them; prom-client's default process metrics
 * carry the same `trapperkeeper_` prefix), kept here once so a rename is one edit and the tests
 * that scrape a real server catch a name that drifted.
 */
export const APP_METRICS = {
  httpRequests: 'trapperkeeper_http_requests_total',
  httpDuration: 'trapperkeeper_http_request_duration_seconds',
  grpcRequests: 'trapperkeeper_grpc_requests_total',
  grpcDuration: 'trapperkeeper_grpc_request_duration_seconds',
  eventsAccepted: 'trapperkeeper_events_accepted_total',
  eventsRejected: 'trapperkeeper_events_rejected_total',
  eventWriteTransactions: 'trapperkeeper_event_write_transactions_total',
  eventWriteBatches: 'trapperkeeper_event_write_batches_total',
  ruleSyncs: 'trapperkeeper_rule_syncs_total',
  ruleSyncEtagHits: 'trapperkeeper_rule_sync_etag_hits_total',
  ruleSyncCacheBytes: 'trapperkeeper_rule_sync_cache_bytes',
  grpcConnections: 'trapperkeeper_grpc_connections',
  grpcConnectionsShed: 'trapperkeeper_grpc_connections_shed_total',
  grpcConnectionsRefused: 'trapperkeeper_grpc_connections_refused_total',
  dbPoolConnections: 'trapperkeeper_db_pool_connections',
  uptime: 'trapperkeeper_uptime_seconds',
  versionInfo: 'app_version_info',
  processCpu: 'trapperkeeper_process_cpu_seconds_total',
  processResidentMemory: 'trapperkeeper_process_resident_memory_bytes',
  eventLoopLag: 'trapperkeeper_nodejs_eventloop_lag_p99_seconds',
} as const;

/**
 * Routes every service answers for machines, not users: their answers are no error users see
 * (/readyz answers 503 on purpose while a slot drains), so error rates leave them out.
 */
export const OPS_ROUTES = ['/healthz', '/readyz', '/metrics', '/api/v1/stats/prometheus'] as const;

/** A PromQL regex matching any of the ops routes (they hold no regex metacharacters). */
export const OPS_ROUTES_REGEX = OPS_ROUTES.join('|');

/**
 * gRPC status codes that mean the server failed the call (the client did nothing wrong), the
 * counterpart of HTTP 5xx; the app labels calls with the code's name.
 */
export const GRPC_SERVER_ERROR_CODES = ['UNKNOWN', 'DEADLINE_EXCEEDED', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS'] as const;

/** The app's services and the Prometheus job that scrapes each. */
export const APP_SCRAPE_JOBS = {
  'sensor-api': 'trapperkeeper-sensor-api',
  'web-ui': 'trapperkeeper-web-ui',
} as const;
export type AppScrapeService = keyof typeof APP_SCRAPE_JOBS;

/** The other scrape jobs; alerts and dashboards select them by these names. */
export const EXPORTER_JOBS = {
  node: 'node',
  postgres: 'postgres',
  cadvisor: 'cadvisor',
} as const;

/** A PromQL regex matching both app jobs. */
export const APP_JOBS_REGEX = Object.values(APP_SCRAPE_JOBS).join('|');
