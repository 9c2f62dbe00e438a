import type { FastifyInstance } from 'fastify';
import type { Database } from '../db/types.js';
import type { BuildInfo, Metrics } from '../metrics/registry.js';
import { DEFAULT_READINESS_LIMITS, DatabaseReadiness, type PingVerdict, type ReadinessLimits } from './readiness.js';

/** /readyz fails when the database does not answer within this long. */
export const READINESS_DB_TIMEOUT_MS = 1000;

export interface OpsDeps {
  db: Database;
  metrics: Metrics;
  build: BuildInfo;
  /** Id of the last applied migration. */
  schemaVersion: () => Promise<string | null>;
  /** True once shutdown began: /readyz turns 503 so load balancers stop sending traffic. */
  draining: () => boolean;
  /**
   * The deployment's release id (TK_RELEASE_ID, set by the deploy toolkit), reported by /readyz
   * so a deploy can verify which release a public endpoint serves.
   */
  releaseId?: string;
  /** How long database trouble must last before /readyz says so. @default DEFAULT_READINESS_LIMITS */
  readinessLimits?: ReadinessLimits;
}

/**
 * The operational endpoints every service exposes on its internal port: liveness, readiness
 * and Prometheus metrics.
 */
export function registerOpsRoutes(app: FastifyInstance, deps: OpsDeps): void {
  registerHealthRoutes(app, deps);
  registerMetricsRoutes(app, deps);
}

/**
 * Liveness and readiness (database ping within 1 s, version and schema version in the body):
 * safe for a public port, where a proxy's health gate probes them. A ping that fails or is slow
 * turns /readyz 503 only when it keeps failing (readiness.ts): a busy moment is not an outage.
 */
export function registerHealthRoutes(app: FastifyInstance, deps: OpsDeps): void {
  const readiness = new DatabaseReadiness(deps.readinessLimits);
  type Probe = { ok: true; schemaVersion: string | null } | { ok: false; reason: string; verdict: PingVerdict };
  // Probes arriving together share one database ping: under load a health check must not add a
  // ping per request, and one slow ping is one failure, not one per waiting probe.
  let inFlight: Promise<Probe> | undefined;
  const probeDatabase = (): Promise<Probe> =>
    (inFlight ??= (async (): Promise<Probe> => {
      try {
        await deps.db.ping(READINESS_DB_TIMEOUT_MS);
        const schemaVersion = await deps.schemaVersion();
        readiness.succeeded();
        return { ok: true, schemaVersion };
      } catch (error) {
        return { ok: false, reason: `database did not answer within ${READINESS_DB_TIMEOUT_MS} ms: ${(error as Error).message}`, verdict: readiness.failed() };
      }
    })().finally(() => {
      inFlight = undefined;
    }));

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const identity = {
      version: deps.build.version,
      commit: deps.build.commit,
      buildDate: deps.build.buildDate,
      release: deps.releaseId ?? null,
    };
    if (deps.draining()) {
      return reply.code(503).send({ status: 'draining', ...identity });
    }
    const probe = await probeDatabase();
    if (probe.ok) return { status: 'ready', ...identity, schemaVersion: probe.schemaVersion, database: deps.db.dialect };
    const { reason, verdict } = probe;
    if (!verdict.ready) return reply.code(503).send({ status: 'unavailable', ...identity, reason, consecutiveFailures: verdict.consecutiveFailures });
    return { status: 'ready', ...identity, database: deps.db.dialect, warning: `${reason} (${verdict.tolerated?.consecutiveFailures ?? 1} in a row; not ready after ${(deps.readinessLimits ?? DEFAULT_READINESS_LIMITS).failuresBeforeUnready})` };
  });
}

/** Prometheus metrics: only on an internal port, never on a public one. */
export function registerMetricsRoutes(app: FastifyInstance, deps: Pick<OpsDeps, 'metrics'>): void {
  const metricsHandler = async (_request: unknown, reply: { type(t: string): unknown }) => {
    reply.type(deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  };
  app.get('/metrics', metricsHandler);
  app.get('/api/v1/stats/prometheus', metricsHandler);
}

/** Counts every HTTP request by route template (never the raw path, which is unbounded). */
export function instrumentHttp(app: FastifyInstance, metrics: Metrics, service: string): void {
  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      service,
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      code: String(reply.statusCode),
    };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });
}
