import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createApiKey, listApiKeys } from '../../src/db/api-keys.js';
import { createRule, getRule } from '../../src/db/rules.js';
import { DEFAULT_TENANT_ID } from '../../src/db/types.js';
import { parseRuleInput } from '../../src/rules/validate.js';
import { ADMIN, HttpClient, setCookieLines, startWebHarness, type WebHarness } from './harness.js';

const sampleRule = () => parseRuleInput({
  name: 'csrf target',
  orGroups: [{ conditions: [{ fieldPath: { segments: [{ fieldName: 'a' }] }, op: 'OPERATOR_EXISTS' }] }],
});

describe('web UI security over HTTP', () => {
  let h: WebHarness;
  before(async () => {
    h = await startWebHarness();
  });
  after(async () => h.close());

  test('pages behind login send an anonymous visitor to /login, remembering where they were going', async () => {
    const response = await new HttpClient(h.baseUrl).get('/rules/new');
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), '/login?next=%2Frules%2Fnew');
  });

  test('a wrong password is refused with 401 and no session', async () => {
    const client = new HttpClient(h.baseUrl);
    const response = await client.login(ADMIN.username, 'wrong password!');
    assert.equal(response.status, 401);
    assert.match(await response.text(), /Wrong username or password/);
    assert.equal(client.cookies.has('tk_session'), false);
  });

  test('the session cookie is HttpOnly, SameSite=Lax, Path=/ and not Secure over plain HTTP', async () => {
    const client = new HttpClient(h.baseUrl);
    const response = await client.login();
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), '/rules');
    const line = setCookieLines(response).find((cookie) => cookie.startsWith('tk_session='));
    assert.ok(line, 'a tk_session cookie is set');
    assert.match(line, /; HttpOnly/i);
    assert.match(line, /; SameSite=Lax/i);
    assert.match(line, /; Path=\//i);
    assert.doesNotMatch(line, /; Secure/i);
    assert.doesNotMatch(line, /; Domain=/i);
    assert.equal((await client.get('/rules')).status, 200);
  });

  test('without trustProxy, X-Forwarded-Proto: https is ignored', async () => {
    const client = new HttpClient(h.baseUrl, { 'x-forwarded-proto': 'https' });
    const response = await client.login();
    const names = setCookieLines(response).map((line) => line.split('=')[0]);
    assert.ok(names.includes('tk_session'));
    assert.ok(!names.includes('__Host-tk_session'));
  });

  test('logging in issues a new session id and retires the one the browser had', async () => {
    const client = new HttpClient(h.baseUrl);
    await client.login();
    const first = client.cookies.get('tk_session');
    assert.ok(first);
    await client.login();
    const second = client.cookies.get('tk_session');
    assert.ok(second);
    assert.notEqual(second, first);

    const stale = new HttpClient(h.baseUrl);
    stale.cookies.set('tk_session', first);
    assert.equal((await stale.get('/rules')).status, 303, 'the old id no longer works');
  });

  test('a session id planted before login is not adopted', async () => {
    const client = new HttpClient(h.baseUrl);
    client.cookies.set('tk_session', 'attacker-chosen-session-id');
    await client.login();
    assert.notEqual(client.cookies.get('tk_session'), 'attacker-chosen-session-id');
  });

  test('logout ends the session on the server, not only in the browser', async () => {
    const client = new HttpClient(h.baseUrl);
    await client.login();
    const id = client.cookies.get('tk_session') ?? '';
    const token = await client.csrfTokenFrom('/rules');
    const response = await client.post('/logout', { _csrf: token });
    assert.equal(response.status, 303);
    assert.equal(client.cookies.has('tk_session'), false);
    const replay = new HttpClient(h.baseUrl);
    replay.cookies.set('tk_session', id);
    assert.equal((await replay.get('/rules')).status, 303);
  });

  test('a POST without a CSRF token is refused with 403 and changes nothing', async () => {
    const client = new HttpClient(h.baseUrl);
    await client.login();
    const rule = await createRule(h.db, DEFAULT_TENANT_ID, { ...sampleRule(), name: 'no token target' });
    const keysBefore = (await listApiKeys(h.db, DEFAULT_TENANT_ID)).length;

    const activate = await client.post(`/rules/${rule.ruleId}/activate`, {});
    assert.equal(activate.status, 403);
    assert.match(await activate.text(), /Nothing was changed/);
    assert.equal((await getRule(h.db, DEFAULT_TENANT_ID, rule.ruleId))?.state, 'RULE_STATE_DRAFT');

    const create = await client.post('/api-keys', { name: 'forged' });
    assert.equal(create.status, 403);
    assert.equal((await listApiKeys(h.db, DEFAULT_TENANT_ID)).length, keysBefore);

    const garbage = await client.post(`/rules/${rule.ruleId}/delete`, { _csrf: 'bm9uY2U.c2lnbmF0dXJl' });
    assert.equal(garbage.status, 403);
    assert.ok(await getRule(h.db, DEFAULT_TENANT_ID, rule.ruleId), 'the rule still exists');
  });

  test("a POST carrying another session's CSRF token is refused with 403 and changes nothing", async () => {
    const victim = new HttpClient(h.baseUrl);
    const attacker = new HttpClient(h.baseUrl);
    await victim.login();
    await attacker.login();
    const { record } = await createApiKey(h.db, DEFAULT_TENANT_ID, 'victim key', h.secret);
    const attackersToken = await attacker.csrfTokenFrom('/api-keys');

    const response = await victim.post(`/api-keys/${record.id}/revoke`, { _csrf: attackersToken });
    assert.equal(response.status, 403);
    const key = (await listApiKeys(h.db, DEFAULT_TENANT_ID)).find((entry) => entry.id === record.id);
    assert.equal(key?.revokedAt, null);

    // The victim's own token works, which shows the refusal was about the token.
    const own = await victim.csrfTokenFrom('/api-keys');
    assert.equal((await victim.post(`/api-keys/${record.id}/revoke`, { _csrf: own })).status, 303);
    assert.ok((await listApiKeys(h.db, DEFAULT_TENANT_ID)).find((entry) => entry.id === record.id)?.revokedAt);
  });

  test('the login form is protected by a token bound to the pre-session cookie', async () => {
    const noToken = new HttpClient(h.baseUrl);
    await noToken.get('/login');
    const missing = await noToken.post('/login', { username: ADMIN.username, password: ADMIN.password });
    assert.equal(missing.status, 403);
    assert.equal(noToken.cookies.has('tk_session'), false);

    // A token lifted from another browser's login page does not fit this browser's pre-session.
    const other = new HttpClient(h.baseUrl);
    const othersToken = await other.csrfTokenFrom('/login');
    const crossed = await noToken.post('/login', { _csrf: othersToken, username: ADMIN.username, password: ADMIN.password });
    assert.equal(crossed.status, 403);
    assert.equal(noToken.cookies.has('tk_session'), false);
  });

  test('every response carries the security headers, and pages are not cached', async () => {
    for (const path of ['/login', '/rules', '/no-such-page']) {
      const response = await new HttpClient(h.baseUrl).get(path);
      assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'self'/);
      assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.equal(response.headers.get('x-frame-options'), 'DENY');
      assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(response.headers.get('cache-control'), 'no-store');
    }
  });

  test('requests are counted by route template, never by raw path', async () => {
    const client = new HttpClient(h.baseUrl);
    await client.login();
    await client.get('/rules/00000000-0000-7000-8000-00000000dead');
    await client.get('/definitely/not/here');
    const text = await h.metrics.registry.getSingleMetricAsString('trapperkeeper_http_requests_total');
    assert.match(text, /service="web-ui",method="GET",route="\/rules\/:id",code="404"/);
    assert.match(text, /route="unmatched",code="404"/);
    assert.doesNotMatch(text, /dead|definitely/);
  });

  test('a body that is not a form is refused with an error page, not parsed', async () => {
    const client = new HttpClient(h.baseUrl);
    await client.login();
    const response = await fetch(new URL('/api-keys', h.baseUrl), {
      method: 'POST',
      headers: { cookie: `tk_session=${client.cookies.get('tk_session')}`, 'content-type': 'application/json' },
      body: '{"name":"json key"}',
      redirect: 'manual',
    });
    assert.equal(response.status, 415);
    assert.match(response.headers.get('content-type') ?? '', /text\/html/);
    assert.equal((await listApiKeys(h.db, DEFAULT_TENANT_ID)).some((key) => key.name === 'json key'), false);
  });

  test('names typed by operators are escaped wherever they are shown', async () => {
    const client = new HttpClient(h.baseUrl);
    await client.login();
    const rule = await createRule(h.db, DEFAULT_TENANT_ID, { ...sampleRule(), name: '<script>alert("x")</script>' });
    for (const path of ['/rules', `/rules/${rule.ruleId}`, `/rules/${rule.ruleId}/edit`, `/rules/${rule.ruleId}/try`]) {
      const body = await (await client.get(path)).text();
      assert.doesNotMatch(body, /<script>alert/, path);
      assert.match(body, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/, path);
    }
  });
});

describe('web UI behind a TLS-terminating proxy', () => {
  let h: WebHarness;
  before(async () => {
    h = await startWebHarness({ trustProxy: true });
  });
  after(async () => h.close());

  test('with X-Forwarded-Proto: https the cookies are Secure and carry the __Host- prefix', async () => {
    const client = new HttpClient(h.baseUrl, { 'x-forwarded-proto': 'https' });
    const loginPage = await client.get('/login');
    const pre = setCookieLines(loginPage).find((line) => line.startsWith('__Host-tk_presession='));
    assert.ok(pre, 'the pre-session cookie is __Host- prefixed');
    assert.match(pre, /; Secure/i);

    const token = /name="_csrf" value="([^"]+)"/.exec(await loginPage.text())?.[1] ?? '';
    const response = await client.post('/login', { _csrf: token, username: ADMIN.username, password: ADMIN.password });
    assert.equal(response.status, 303);
    const line = setCookieLines(response).find((cookie) => cookie.startsWith('__Host-tk_session='));
    assert.ok(line, 'the session cookie is __Host-tk_session');
    assert.match(line, /; Secure/i);
    assert.match(line, /; HttpOnly/i);
    assert.match(line, /; SameSite=Lax/i);
    assert.match(line, /; Path=\/(;|$)/i);
    assert.doesNotMatch(line, /; Domain=/i);
    assert.match(response.headers.get('strict-transport-security') ?? '', /max-age=/);
    assert.equal((await client.get('/rules')).status, 200);
  });
});

describe('first start', () => {
  let h: WebHarness;
  before(async () => {
    h = await startWebHarness({ withAdmin: false });
  });
  after(async () => h.close());

  test('with no user yet, the login page says to run users create-admin', async () => {
    const body = await (await new HttpClient(h.baseUrl).get('/login')).text();
    assert.match(body, /trapperkeeper users create-admin/);
  });
});
