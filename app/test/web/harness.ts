import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { HmacSecret } from '../../src/auth/hmac-secrets.js';
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
export async function startWebHarness(options: {
  withAdmin?: boolean;
  trustProxy?: boolean;
  /** Gets the harness's database and metrics, as the CLI would pass its own. */
  ops?: (app: FastifyInstance, parts: { db: Database; metrics: Metrics }) => void;
} = {}): Promise<WebHarness> {
  const test = await createTestDatabase('sqlite');
  const secret: HmacSecret = { id: randomBytes(16).toString('hex'), secret: randomBytes(32) };
  const metrics = createMetrics(TEST_BUILD, () => undefined);
  if (options.withAdmin !== false) {
    await createUser(test.db, DEFAULT_TENANT_ID, ADMIN.username, ADMIN.password, { isAdmin: true });
  }
  const web = await startWebUi({
    db: test.db,
    logger: createLogger({ level: 'silent', pretty: false }),
    metrics,
    hmacSecrets: [secret],
    build: TEST_BUILD,
    sessionTtlMinutes: 30,
    trustProxy: options.trustProxy ?? false,
    host: '127.0.0.1',
    port: 0,
    ...(options.ops ? { ops: (app: FastifyInstance) => options.ops?.(app, { db: test.db, metrics }) } : {}),
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

/** A cookie-keeping HTTP client for requests a browser would not make (forged posts, odd headers). */
export class HttpClient {
  readonly cookies = new Map<string, string>();

  constructor(readonly baseUrl: string, readonly headers: Record<string, string> = {}) {}

  async request(method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<Response> {
    const headers: Record<string, string> = { ...this.headers };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers,
      redirect: 'manual',
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
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
