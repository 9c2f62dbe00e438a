import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { request as httpRequest } from 'node:http';
import type { HmacSecret } from '../../src/auth/hmac-secrets.js';
import type { LoginThrottlePolicy } from '../../src/config/app-config.js';
import { DEFAULT_WEB_UI_MAX_BODY_BYTES } from '../../src/config/defaults.js';
import { createUser } from '../../src/db/users.js';
import { DEFAULT_TENANT_ID, type Database } from '../../src/db/types.js';
import { createLogger } from '../../src/log/logger.js';
import { createMetrics, type BuildInfo, type Metrics } from '../../src/metrics/registry.js';
import { startWebUi, type RunningWebUi } from '../../src/web/server.js';
import { createTestDatabase } from '../support/databases.js';

export const ADMIN = { username: 'admin', password: 'correct horse battery' };
export const TEST_BUILD: BuildInfo = { version: '9.8.7-test', commit: 'abc1234def', buildDate: '2030-01-02T03:04:05Z' };

export interface WebHarness {
  baseUrl: string;
  db: Database;
  metrics: Metrics;
  secret: HmacSecret;
  web: RunningWebUi;
  close(): Promise<void>;
}

/** A web UI on a free port over a fresh SQLite database, with an admin user unless `withAdmin` is false. */
/** Thresholds high enough that tests which are not about throttling never meet them. */
export const RELAXED_LOGIN_THROTTLE: LoginThrottlePolicy = {
  failuresPerAddressAccount: 1000,
  failuresPerAddress: 1000,
  failuresPerAccount: 1000,
  backoffMaxMs: 60_000,
};

export async function startWebHarness(options: {
  withAdmin?: boolean;
  trustProxy?: boolean;
  maxBodyBytes?: number;
  loginThrottle?: LoginThrottlePolicy;
  /** Where log lines go (JSON); silent when not given. */
  logTo?: NodeJS.WritableStream;
  /** Extra routes on the public server; gets the harness's database and metrics, as the CLI passes its own. */
  routes?: (app: FastifyInstance, parts: { db: Database; metrics: Metrics }) => void;
} = {}): Promise<WebHarness> {
  const test = await createTestDatabase('sqlite');
  const secret: HmacSecret = { id: randomBytes(16).toString('hex'), secret: randomBytes(32) };
  const metrics = createMetrics(TEST_BUILD, () => undefined);
  if (options.withAdmin !== false) {
    await createUser(test.db, DEFAULT_TENANT_ID, ADMIN.username, ADMIN.password, { isAdmin: true });
  }
  const web = await startWebUi({
    db: test.db,
    logger: options.logTo ? createLogger({ level: 'info', pretty: false }, options.logTo) : createLogger({ level: 'silent', pretty: false }),
    metrics,
    hmacSecrets: [secret],
    build: TEST_BUILD,
    sessionTtlMinutes: 30,
    trustProxy: options.trustProxy ?? false,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_WEB_UI_MAX_BODY_BYTES,
    loginThrottle: options.loginThrottle ?? RELAXED_LOGIN_THROTTLE,
    host: '127.0.0.1',
    port: 0,
    ...(options.routes ? { extraRoutes: (app: FastifyInstance) => options.routes?.(app, { db: test.db, metrics }) } : {}),
  });
  return {
    baseUrl: `http://127.0.0.1:${web.port}`,
    db: test.db,
    metrics,
    secret,
    web,
    close: async () => {
      await web.close(1000);
      await test.drop();
    },
  };
}

/**
 * A cookie-keeping HTTP client for requests a browser would not make (forged posts, odd headers).
 * `localAddress` binds its connections to another loopback address (127.0.0.2, ...), which the
 * server sees as another client.
 */
export class HttpClient {
  readonly cookies = new Map<string, string>();

  constructor(
    readonly baseUrl: string,
    readonly headers: Record<string, string> = {},
    readonly options: { localAddress?: string } = {},
  ) {}

  async request(method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<Response> {
    const headers: Record<string, string> = { ...this.headers };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const body = form ? new URLSearchParams(form).toString() : undefined;
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const response = await sendRequest(new URL(path, this.baseUrl), method, headers, body, this.options.localAddress);
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...rest] = (pair ?? '').split('=');
      if (!name) continue;
      const value = rest.join('=');
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) this.cookies.delete(name.trim());
      else this.cookies.set(name.trim(), value);
    }
    return response;
  }

  get(path: string): Promise<Response> {
    return this.request('GET', path);
  }

  post(path: string, form: Record<string, string>): Promise<Response> {
    return this.request('POST', path, form);
  }

  /** Fetches a page and returns the CSRF token of its first form. */
  async csrfTokenFrom(path: string): Promise<string> {
    const body = await (await this.get(path)).text();
    const token = /name="_csrf" value="([^"]+)"/.exec(body)?.[1];
    if (!token) throw new Error(`no CSRF token on ${path}`);
    return token;
  }

  async login(username = ADMIN.username, password = ADMIN.password): Promise<Response> {
    const token = await this.csrfTokenFrom('/login');
    return this.post('/login', { _csrf: token, username, password });
  }
}

export function setCookieLines(response: Response): string[] {
  return response.headers.getSetCookie();
}

/** One HTTP/1.1 request over its own connection (no redirects followed), as a fetch Response. */
function sendRequest(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  localAddress: string | undefined,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
      method,
      headers,
      agent: false,
      ...(localAddress ? { localAddress } : {}),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const responseHeaders = new Headers();
        for (let i = 0; i < res.rawHeaders.length; i += 2) responseHeaders.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
        const status = res.statusCode ?? 0;
        const noBody = status === 204 || status === 304 || method === 'HEAD';
        resolve(new Response(noBody ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers: responseHeaders }));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
