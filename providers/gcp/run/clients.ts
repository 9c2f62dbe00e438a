import * as grpc from '@grpc/grpc-js';
import { ExecutionsClient, JobsClient, RevisionsClient, ServicesClient } from '@google-cloud/run';

/**
 * The Cloud Run Admin API v2 clients a release uses. Without an endpoint they reach
 * run.googleapis.com with Application Default Credentials; tests point them at the local
 * emulator (cloud-run-emulator.ts) over plaintext gRPC on 127.0.0.1.
 */
export interface CloudRunEndpoint {
  host: string;
  port: number;
}

export interface CloudRunClients {
  services: ServicesClient;
  revisions: RevisionsClient;
  jobs: JobsClient;
  executions: ExecutionsClient;
  close(): Promise<void>;
}

/**
 * How a call Cloud Run refused for quota (RESOURCE_EXHAUSTED, HTTP 429: the project's requests
 * per minute are spent, e.g. while several stacks release at once) is retried: after a random
 * pause of up to `initialDelayMs`, each next pause up to twice as long (at most `maxDelayMs`),
 * until `totalMs` have passed since the first attempt; then the call fails with DEADLINE_EXCEEDED.
 * The library's own defaults retry none of these calls on RESOURCE_EXHAUSTED.
 */
export interface ThrottleRetry {
  initialDelayMs: number;
  maxDelayMs: number;
  totalMs: number;
}

/** A quota is counted per minute: the retries span more than one. */
export const DEFAULT_THROTTLE_RETRY: ThrottleRetry = { initialDelayMs: 1000, maxDelayMs: 16_000, totalMs: 90_000 };

/** The calls a release makes, per API interface; reads also retry what the library retries for GetService. */
const RELEASE_CALLS: Record<string, { reads: string[]; writes: string[] }> = {
  'google.cloud.run.v2.Services': { reads: ['GetService'], writes: ['UpdateService'] },
  'google.cloud.run.v2.Revisions': { reads: ['GetRevision', 'ListRevisions'], writes: ['DeleteRevision'] },
  'google.cloud.run.v2.Jobs': { reads: ['GetJob'], writes: ['CreateJob', 'UpdateJob', 'RunJob'] },
  'google.cloud.run.v2.Executions': { reads: ['GetExecution'], writes: [] },
  // Polling a long-running operation (a revision becoming ready, a job running).
  'google.longrunning.Operations': { reads: ['GetOperation'], writes: [] },
};

/**
 * The google-gax client configuration that adds the throttling retry: a refused write did
 * nothing (quota is checked before a request is handled), so it is retried like a read; a write
 * that failed otherwise is not.
 */
type ClientConfig = NonNullable<NonNullable<ConstructorParameters<typeof ServicesClient>[0]>['clientConfig']>;

export function throttleRetryConfig(retry: ThrottleRetry): ClientConfig {
  const params = {
    initial_retry_delay_millis: retry.initialDelayMs,
    retry_delay_multiplier: 2,
    max_retry_delay_millis: retry.maxDelayMs,
    initial_rpc_timeout_millis: 60_000,
    rpc_timeout_multiplier: 1,
    max_rpc_timeout_millis: 60_000,
    total_timeout_millis: retry.totalMs,
  };
  // google-gax makes a method's timeout its whole retry budget (CallSettings.merge).
  const method = (codes: string) => ({ timeout_millis: retry.totalMs, retry_codes_name: codes, retry_params_name: 'throttled' });
  return {
    interfaces: Object.fromEntries(
      Object.entries(RELEASE_CALLS).map(([name, calls]) => [
        name,
        {
          retry_codes: { read: ['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED'], write: ['RESOURCE_EXHAUSTED'] },
          retry_params: { throttled: params },
          methods: Object.fromEntries([...calls.reads.map((m) => [m, method('read')]), ...calls.writes.map((m) => [m, method('write')])]),
        },
      ]),
    ),
  };
}

export function cloudRunClients(endpoint?: CloudRunEndpoint, options: { throttleRetry?: ThrottleRetry } = {}): CloudRunClients {
  const clientConfig = throttleRetryConfig(options.throttleRetry ?? DEFAULT_THROTTLE_RETRY);
  const connection = endpoint ? { apiEndpoint: endpoint.host, port: endpoint.port, sslCreds: grpc.credentials.createInsecure() } : {};
  const settings = { ...connection, clientConfig };
  const clients = { services: new ServicesClient(settings), revisions: new RevisionsClient(settings), jobs: new JobsClient(settings), executions: new ExecutionsClient(settings) };
  return { ...clients, close: async () => void (await Promise.all(Object.values(clients).map((client) => client.close()))) };
}

/** Whether `error` is Cloud Run refusing for quota, still, when the retries gave up. */
export function isQuotaRefusal(error: unknown): boolean {
  return (error as { code?: unknown }).code === grpc.status.RESOURCE_EXHAUSTED || /RESOURCE_EXHAUSTED/.test((error as Error | undefined)?.message ?? '');
}

export const QUOTA_FIX =
  'wait a minute for the quota to refill, then run pulumi up again; if it keeps happening, release fewer stacks of the project at once ' +
  'or ask for a higher "requests per minute" quota of the Cloud Run Admin API (Google Cloud console: IAM & Admin > Quotas)';

/** `what` failed because Cloud Run kept refusing it for quota. */
export function quotaMessage(what: string): string {
  return `${what} failed: Cloud Run refused it for quota (RESOURCE_EXHAUSTED, the project's API requests per minute are spent) and kept refusing while the release retried with backoff`;
}
