import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createRule } from '../../src/db/rules.js';
import { DEFAULT_TENANT_ID } from '../../src/db/types.js';
import { registerHealthRoutes } from '../../src/http/ops-routes.js';
import { currentSchemaVersion } from '../../src/db/migrator.js';
import { parseRuleInput } from '../../src/rules/validate.js';
import { HttpClient, startWebHarness, TEST_BUILD, type WebHarness } from './harness.js';

/** An editor post of `rows` conditions with empty paths: each is an issue on its own row. */
function editorForm(csrf: string, rows: number): string {
  const parts = [`_csrf=${encodeURIComponent(csrf)}`, 'name=big', 'sampleRate=1', 'intent=save'];
  for (let i = 0; i < rows; i += 1) parts.push(`g${i % 1000}.c${Math.floor(i / 1000)}.path=`);
  return parts.join('&');
}

/** A raw POST (fetch would not show how long the server took apart from the upload). */
function post(port: number, path: string, cookie: string, body: string): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port, path, method: 'POST', agent: false,
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, ms: performance.now() - started }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** GET /healthz every 20 ms until stopped; returns the slowest answer's time. */
function probeHealth(baseUrl: string): { stop: () => Promise<number> } {
  let running = true;
  let slowest = 0;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const response = await fetch(new URL('/healthz', baseUrl));
      await response.arrayBuffer();
      slowest = Math.max(slowest, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return { stop: async () => { running = false; await loop; return slowest; } };
}

describe('request bodies', () => {
  let h: WebHarness;
  let client: HttpClient;
  let cookie = '';
  before(async () => {
    h = await startWebHarness({
      routes: (app, { db, metrics }) => registerHealthRoutes(app, {
        db, metrics, build: TEST_BUILD, schemaVersion: () => currentSchemaVersion(db), draining: () => false,
      }),
    });
    client = new HttpClient(h.baseUrl);
    await client.login();
    cookie = `tk_session=${client.cookies.get('tk_session')}`;
  });
  after(async () => h.close());

  test('a 4 MB form post to the rule editor gets a readable 413 at once, and /healthz keeps answering meanwhile', async () => {
    const csrf = await client.csrfTokenFrom('/rules/new');
    let body = editorForm(csrf, 200_000);
    body = body.slice(0, 4_000_000);
    const health = probeHealth(h.baseUrl);
    const answer = await post(h.web.port, '/rules/new', cookie, body);
    const slowestHealth = await health.stop();
    assert.equal(answer.status, 413);
    assert.match(answer.body, /Form too large/);
    assert.match(answer.body, /nothing was saved/);
    assert.ok(answer.ms < 2_000, `413 after ${answer.ms.toFixed(0)} ms`);
    assert.ok(slowestHealth < 500, `/healthz took up to ${slowestHealth.toFixed(0)} ms during the post`);
  });

  test('a post under the body limit with thousands of rows is refused unread, and the most the editor takes is answered quickly', async () => {
    const csrf = await client.csrfTokenFrom('/rules/new');
    const crafted = editorForm(csrf, 12_000);
    assert.ok(Buffer.byteLength(crafted) < 256 * 1024);
    const health = probeHealth(h.baseUrl);
    const refused = await post(h.web.port, '/rules/new', cookie, crafted);
    const slowestHealth = await health.stop();
    assert.equal(refused.status, 413);
    assert.match(refused.body, /at most 256/);
    assert.ok(refused.ms < 1_000, `413 after ${refused.ms.toFixed(0)} ms`);
    assert.ok(slowestHealth < 500, `/healthz took up to ${slowestHealth.toFixed(0)} ms during the post`);

    // 4 groups of 64 empty rows: every row is an issue shown on its own field.
    const parts = [`_csrf=${encodeURIComponent(csrf)}`, 'name=big', 'sampleRate=1', 'intent=save'];
    for (let i = 0; i < 256; i += 1) parts.push(`g${i % 4}.c${Math.floor(i / 4)}.path=`);
    const largest = await post(h.web.port, '/rules/new', cookie, parts.join('&'));
    assert.equal(largest.status, 422);
    assert.match(largest.body, /The rule was not saved/);
    assert.ok(largest.ms < 1_000, `422 after ${largest.ms.toFixed(0)} ms`);
  });

  test('"try a rule" still takes the largest payload a sensor may send', async () => {
    const rule = await createRule(h.db, DEFAULT_TENANT_ID, parseRuleInput({
      name: 'try target',
      orGroups: [{ conditions: [{ fieldPath: { segments: [{ fieldName: 'a' }] }, op: 'OPERATOR_EXISTS' }] }],
    }));
    const csrf = await client.csrfTokenFrom(`/rules/${rule.ruleId}/try`);
    // ~1 MB of JSON that URL-encodes to about three times its size.
    const payload = JSON.stringify({ a: '"{}"'.repeat(160_000) });
    assert.ok(Buffer.byteLength(payload) < 1024 * 1024);
    const body = new URLSearchParams({ _csrf: csrf, payload }).toString();
    assert.ok(Buffer.byteLength(body) > 2 * 1024 * 1024);
    const answer = await post(h.web.port, `/rules/${rule.ruleId}/try`, cookie, body);
    assert.equal(answer.status, 200);
    assert.match(answer.body, /<span class="matched">matched<\/span>/);
  });
});

describe('the login "next" parameter', () => {
  let h: WebHarness;
  before(async () => {
    h = await startWebHarness();
  });
  after(async () => h.close());

  async function loginWithNext(next: string): Promise<Response> {
    const client = new HttpClient(h.baseUrl);
    const page = await client.get(`/login?next=${encodeURIComponent(next)}`);
    assert.equal(page.status, 200, `GET /login?next=${next}`);
    const token = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
    return client.post('/login', { _csrf: token, username: 'admin', password: 'correct horse battery', next });
  }

  test('a path with non-ASCII characters is followed, percent-encoded', async () => {
    const response = await loginWithNext('/rules?q=größe€日本');
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), `/rules?q=${encodeURIComponent('größe€日本')}`);
  });

  test('other sites and odd characters are still refused: the login lands on /rules', async () => {
    for (const next of ['//evil.example', '/\\evil.example', 'https://evil.example/', '/\u3000/evil.example', '/a\u0001b', ' /rules']) {
      const response = await loginWithNext(next);
      assert.equal(response.status, 303, JSON.stringify(next));
      assert.equal(response.headers.get('location'), '/rules', JSON.stringify(next));
    }
  });
});
