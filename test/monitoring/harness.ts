/**
 * Real processes for the monitoring tests, all on 127.0.0.1 with ports the OS picked: Debian's
 * Prometheus, Alertmanager and exporters, the built `trapperkeeper` command on a PostgreSQL
 * database of its own, webhook receivers (node:http) and a sensor speaking the app's protos.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { runTool } from '../../components/monitoring/testing.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The installed command (`npm ci` builds app/dist), as the container image runs it. */
export const TRAPPERKEEPER_BIN = fileURLToPath(new URL('../../app/bin/trapperkeeper.js', import.meta.url));
const PROTO_DIR = fileURLToPath(new URL('../../app/proto/', import.meta.url));

/** Polls `check` until it returns a value (not undefined), or fails saying what was awaited. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, detail?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(250);
  }
  const why = lastError ? ` (last error: ${(lastError as Error).message})` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}${detail ? `\n${detail()}` : ''}`);
}

/** A long-running child process whose output is kept for failure messages. */
export class ManagedProcess {
  readonly output: string[] = [];
  private exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString());
      if (this.output.length > 400) this.output.splice(0, this.output.length - 400);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => child.on('close', (code) => {
      this.exitCode = code;
      resolve(code);
    }));
  }

  static start(name: string, command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): ManagedProcess {
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const managed = new ManagedProcess(name, child);
    child.on('error', (error) => managed.output.push(`spawn failed: ${error.message}`));
    return managed;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  log(): string {
    return `--- ${this.name} output\n${this.output.join('').slice(-6000)}`;
  }

  /** Waits until `url` answers 200 (fails early when the process exits). */
  async waitHttp(url: string, timeoutMs = 20_000): Promise<void> {
    await waitFor(`${this.name} at ${url}`, async () => {
      if (!this.running) throw new Error(`${this.name} exited with ${this.exitCode}\n${this.log()}`);
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      return response.status === 200 ? true : undefined;
    }, timeoutMs, () => this.log());
  }

  /** SIGTERM, then SIGKILL when it has not exited within `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface ReceivedRequest {
  path: string;
  query: URLSearchParams;
  body: AlertmanagerNotification;
}

/** The JSON body Alertmanager's webhook integration posts (version 4). */
export interface AlertmanagerNotification {
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  alerts: { status: 'firing' | 'resolved'; labels: Record<string, string>; annotations: Record<string, string> }[];
}

/** An HTTP server on 127.0.0.1 that records every POST, as a webhook or ntfy endpoint would receive it. */
export class WebhookReceiver {
  readonly received: ReceivedRequest[] = [];
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => { body += chunk; });
      request.on('end', () => {
        const url = new URL(request.url ?? '/', 'http://127.0.0.1');
        try {
          this.received.push({ path: url.pathname, query: url.searchParams, body: JSON.parse(body) as AlertmanagerNotification });
        } catch {
          // not JSON: not from Alertmanager; the tests would not find it
        }
        response.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** The first notification that has an alert matching `match`. */
  waitForAlert(what: string, match: (alert: AlertmanagerNotification['alerts'][number], request: ReceivedRequest) => boolean, timeoutMs: number, detail?: () => string) {
    return waitFor(what, async () => this.received.find((request) => request.body.alerts.some((alert) => match(alert, request))), timeoutMs, () =>
      `received: ${JSON.stringify(this.received.map((r) => ({ path: r.path, status: r.body.status, alerts: r.body.alerts.map((a) => [a.labels.alertname, a.status]) })))}${detail ? `\n${detail()}` : ''}`);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

export interface PromSample {
  metric: Record<string, string>;
  value?: [number, string];
  values?: [number, string][];
}

/** Prometheus' HTTP API (/api/v1). */
export class PrometheusApi {
  constructor(readonly baseUrl: string) {}

  private async get(path: string, params: Record<string, string>): Promise<{ status: string; data?: { result: PromSample[] }; error?: string }> {
    const response = await fetch(`${this.baseUrl}${path}?${new URLSearchParams(params)}`, { signal: AbortSignal.timeout(10_000) });
    return (await response.json()) as { status: string; data?: { result: PromSample[] }; error?: string };
  }

  async query(expr: string): Promise<PromSample[]> {
    const answer = await this.get('/api/v1/query', { query: expr });
    if (answer.status !== 'success') throw new Error(`query ${expr} failed: ${answer.error}`);
    return answer.data!.result;
  }

  /** A range query as Grafana runs one; resolves to the answer whether or not it succeeded. */
  queryRange(expr: string, start: Date, end: Date, stepSeconds: number) {
    return this.get('/api/v1/query_range', {
      query: expr,
      start: String(start.getTime() / 1000),
      end: String(end.getTime() / 1000),
      step: String(stepSeconds),
    });
  }

  /** Waits until `expr` returns samples that satisfy `ok`. */
  waitForQuery(expr: string, ok: (samples: PromSample[]) => boolean, timeoutMs: number, detail?: () => string): Promise<PromSample[]> {
    let last: PromSample[] = [];
    return waitFor(`${expr} to match`, async () => {
      last = await this.query(expr);
      return ok(last) ? last : undefined;
    }, timeoutMs, () => `last answer: ${JSON.stringify(last)}${detail ? `\n${detail()}` : ''}`);
  }
}

/** The PostgreSQL server the tests use (TK_TEST_POSTGRES_URL, as the app's tests). */
export const POSTGRES_ADMIN_URL = process.env.TK_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function psql(sql: string): Promise<string> {
  const result = await runTool('psql', [POSTGRES_ADMIN_URL, '-v', 'ON_ERROR_STOP=1', '-Atc', sql]);
  if (result.code !== 0) throw new Error(`psql failed: ${result.stderr}`);
  return result.stdout;
}

/** A fresh database of its own on the test server. */
export class TestDatabase {
  private constructor(readonly name: string) {}

  static async create(): Promise<TestDatabase> {
    const name = `tk_monitoring_${process.pid}_${randomBytes(4).toString('hex')}`;
    await psql(`CREATE DATABASE "${name}"`);
    return new TestDatabase(name);
  }

  get url(): string {
    const url = new URL(POSTGRES_ADMIN_URL);
    url.pathname = `/${this.name}`;
    return url.toString();
  }

  /** An outage as the app sees one: its connections are cut and no new one is accepted. */
  async cutOff(): Promise<void> {
    await psql(`ALTER DATABASE "${this.name}" WITH ALLOW_CONNECTIONS false`);
    await psql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${this.name}' AND pid <> pg_backend_pid()`);
  }

  async drop(): Promise<void> {
    await psql(`DROP DATABASE IF EXISTS "${this.name}" WITH (FORCE)`);
  }
}

/** A sensor: the app's own protos, loaded at run time as a sensor built from them would be. */
export class Sensor {
  private readonly client: grpc.Client;

  constructor(port: number, private readonly apiKey: string) {
    const definition = protoLoader.loadSync('trapperkeeper/sensor/v1/sensor_api.proto', {
      includeDirs: [PROTO_DIR],
      keepCase: false,
      enums: String,
      longs: Number,
      defaults: true,
      oneofs: true,
    });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      trapperkeeper: { sensor: { v1: { SensorAPI: grpc.ServiceClientConstructor } } };
    };
    this.client = new loaded.trapperkeeper.sensor.v1.SensorAPI(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  }

  private call(method: 'reportEvents' | 'syncRules', request: object, extra: Record<string, string> = {}): Promise<{ response?: Record<string, unknown>; code: string; etag?: string }> {
    const metadata = new grpc.Metadata();
    metadata.set('x-api-key', this.apiKey);
    for (const [key, value] of Object.entries(extra)) metadata.set(key, value);
    return new Promise((resolve) => {
      let etag: string | undefined;
      const unary = (this.client as unknown as Record<string, (...args: unknown[]) => grpc.ClientUnaryCall>)[method]!;
      const call = unary.call(this.client, request, metadata, { deadline: Date.now() + 5_000 }, (error: grpc.ServiceError | null, response?: Record<string, unknown>) => {
        resolve({ ...(response ? { response } : {}), code: error ? grpc.status[error.code] : 'OK', ...(etag ? { etag } : {}) });
      });
      call.on('metadata', (headers: grpc.Metadata) => {
        const value = headers.get('etag')[0];
        if (typeof value === 'string') etag = value;
      });
    });
  }

  reportEvents(count: number, prefix: string) {
    const events = Array.from({ length: count }, (_, i) => ({
      eventId: `${prefix}-${i}`,
      payload: { fields: { temperature: { numberValue: 20 + i } } },
    }));
    return this.call('reportEvents', { sensorId: 'monitoring-test', events });
  }

  syncRules(etag?: string) {
    return this.call('syncRules', { tags: ['env=test'] }, etag ? { 'if-none-match': etag } : {});
  }

  close(): void {
    this.client.close();
  }
}
