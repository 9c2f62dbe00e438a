import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { startSensorApi, type SensorApiServer } from '../../src/grpc/server.js';
import { jsonToStruct } from '../../src/grpc/struct.js';
import { createLogger } from '../../src/log/logger.js';
import { launchBrowser } from '../support/browser.js';
import { callFailure, connectSensorClient, type SensorClient } from '../support/sensor-client.js';
import { ADMIN, startWebHarness, TEST_BUILD, type WebHarness } from './harness.js';

/**
 * The operator's journey through the web UI in a real browser, with the sensor side checked
 * through a real gRPC client: what the UI saves is what sensors are served.
 */
describe('web UI in a browser', () => {
  let h: WebHarness;
  let sensorApi: SensorApiServer;
  let sensor: SensorClient;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let ruleId = '';
  let apiKey = '';

  const url = (path: string) => new URL(path, h.baseUrl).toString();

  before(async () => {
    h = await startWebHarness();
    sensorApi = await startSensorApi({
      host: '127.0.0.1',
      port: 0,
      maxBatchSize: 100,
      ingestWorkers: 1,
      maxMessageBytes: 4 * 1024 * 1024,
      db: h.db,
      logger: createLogger({ level: 'silent', pretty: false }),
      metrics: h.metrics,
      hmacSecrets: [h.secret],
    });
    sensor = connectSensorClient(sensorApi.port);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    page = await context.newPage();
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    sensor?.close();
    await sensorApi?.drain(1000);
    await h?.close();
  });

  test('an operator logs in and lands on the rules page', async () => {
    await page.goto(url('/'));
    assert.match(page.url(), /\/login/);
    await page.fill('#username', ADMIN.username);
    await page.fill('#password', ADMIN.password);
    await page.click('button:has-text("Log in")');
    await page.waitForURL(url('/rules'));
    assert.equal(await page.textContent('h1'), 'Rules');
  });

  test('a rule with two conditions is built with the add-condition button and saved', async () => {
    await page.click('a:has-text("New rule")');
    await page.waitForURL(url('/rules/new'));
    await page.fill('#name', 'Big promo orders');
    await page.fill('#scopeTags', 'env=prod');
    await page.selectOption('#action', 'ACTION_DROP');
    await page.fill('#g0-c0-path', 'order.total');
    await page.selectOption('#g0-c0-op', 'OPERATOR_GT');
    await page.selectOption('#g0-c0-fieldType', 'FIELD_TYPE_NUMERIC');
    await page.fill('#g0-c0-value', '100');

    await page.click('button:has-text("+ Add condition")');
    await page.waitForSelector('#g0-c1-path');
    assert.equal(await page.inputValue('#g0-c0-path'), 'order.total', 'the first row survives the re-render');
    assert.equal(await page.inputValue('#g0-c0-op'), 'OPERATOR_GT');
    await page.fill('#g0-c1-path', 'order.items[*].sku');
    await page.selectOption('#g0-c1-op', 'OPERATOR_PREFIX');
    await page.selectOption('#g0-c1-fieldType', 'FIELD_TYPE_TEXT');
    await page.fill('#g0-c1-value', 'PROMO-');
    await page.screenshot({ path: '/tmp/tk-rule-editor.png', fullPage: true });

    await page.click('button:has-text("Create rule")');
    await page.waitForURL(/\/rules\/[0-9a-f-]{36}$/);
    assert.match(await page.textContent('.flash.success') ?? '', /Created rule “Big promo orders” \(draft\)/);
    ruleId = (await page.textContent('#rule-id'))?.trim() ?? '';
    assert.match(ruleId, /^[0-9a-f-]{36}$/);
    const conditions = await page.locator('.group li code').allTextContents();
    assert.deepEqual(conditions, ['order.total greater than 100', 'order.items[*].sku starts with "PROMO-"']);
  });

  test('the rule is activated from the list', async () => {
    await page.goto(url('/rules'));
    const row = page.locator(`tr[data-rule-id="${ruleId}"]`);
    assert.equal(await row.locator('.badge').textContent(), 'draft');
    await row.locator('button:has-text("Activate")').click();
    await page.waitForURL(url('/rules'));
    assert.match(await page.textContent('.flash.success') ?? '', /Activated rule “Big promo orders”/);
    assert.equal(await page.locator(`tr[data-rule-id="${ruleId}"] .badge`).textContent(), 'active');
    assert.equal(await page.locator('.flash').count(), 1);
    await page.reload();
    assert.equal(await page.locator('.flash').count(), 0, 'a flash is shown once');
    await page.screenshot({ path: '/tmp/tk-rules.png', fullPage: true });
  });

  test('an API key is created and shown exactly once', async () => {
    await page.goto(url('/api-keys'));
    await page.fill('#key-name', 'checkout sensor');
    await page.click('button:has-text("Create key")');
    await page.waitForURL(url('/api-keys'));
    apiKey = (await page.textContent('#new-api-key'))?.trim() ?? '';
    assert.match(apiKey, /^tk-v1-[0-9a-f]{32}-[0-9a-f]{64}$/);
    assert.equal(await page.locator('tr:has-text("checkout sensor") .badge').textContent(), 'active');
    await page.reload();
    assert.equal(await page.locator('#new-api-key').count(), 0);
    assert.doesNotMatch(await page.content(), new RegExp(apiKey.slice(-64)));
  });

  test('a sensor syncing over gRPC is served the activated rule with both conditions', async () => {
    const { response } = await sensor.syncRules({ tags: ['env=prod'] }, { apiKey });
    const served = (response.rules as Record<string, any>[]).find((rule) => rule.ruleId === ruleId);
    assert.ok(served, 'the rule is served to a sensor tagged env=prod');
    assert.equal(served.name, 'Big promo orders');
    assert.equal(served.state, 'RULE_STATE_ACTIVE');
    assert.equal(served.action, 'ACTION_DROP');
    const conditions = served.orGroups[0].conditions;
    assert.equal(conditions.length, 2);
    assert.deepEqual(conditions[0].fieldPath.segments.map((s: Record<string, unknown>) => s.fieldName), ['order', 'total']);
    assert.equal(conditions[0].op, 'OPERATOR_GT');
    assert.equal(conditions[0].value.numericValue, 100);
    assert.equal(conditions[1].op, 'OPERATOR_PREFIX');
    assert.equal(conditions[1].value.stringValue, 'PROMO-');
    assert.ok(conditions[1].fieldPath.segments[2].wildcard !== undefined && conditions[1].fieldPath.segments[2].wildcard !== null);

    const other = await sensor.syncRules({ tags: ['env=staging'] }, { apiKey });
    assert.equal((other.response.rules as unknown[]).length, 0, 'a sensor outside the scope is not served it');
  });

  test('trying the rule on a sample payload shows matched and the trace', async () => {
    await page.goto(url(`/rules/${ruleId}/try`));
    await page.fill('#payload', JSON.stringify({ order: { total: 150, items: [{ sku: 'X-1' }, { sku: 'PROMO-7' }] } }));
    await page.click('button:has-text("Evaluate")');
    assert.match(await page.textContent('#try-result') ?? '', /matched: the rule matches/);
    const traceRows = await page.locator('table tbody tr').allTextContents();
    assert.equal(traceRows.length, 2);
    assert.match(traceRows[1] ?? '', /order\.items\[1\]\.sku/);

    await page.fill('#payload', JSON.stringify({ order: { total: 50 } }));
    await page.click('button:has-text("Evaluate")');
    assert.match(await page.textContent('#try-result') ?? '', /not matched/);

    await page.fill('#payload', '{ not json');
    await page.click('button:has-text("Evaluate")');
    assert.match(await page.textContent('#try-result') ?? '', /not valid JSON/);
  });

  test('an event reported by the sensor shows up with the rule it matched', async () => {
    const { response } = await sensor.reportEvents({
      sensorId: 'checkout-1',
      events: [{ eventId: 'evt-browser-1', payload: jsonToStruct({ order: { total: 500, items: [{ sku: 'PROMO-1' }] } }), metadata: { source: 'test' } }],
    }, { apiKey });
    assert.equal(response.acceptedCount, 1);
    await page.goto(url('/events'));
    const row = page.locator('tr:has-text("evt-browser-1")');
    assert.match(await row.textContent() ?? '', /checkout-1/);
    assert.match(await row.textContent() ?? '', /Big promo orders/);
  });

  test('invalid rule input comes back as the form with messages next to the fields', async () => {
    await page.goto(url('/rules/new'));
    await page.fill('#g0-c0-path', 'order..total');
    await page.selectOption('#g0-c0-fieldType', 'FIELD_TYPE_NUMERIC');
    await page.fill('#g0-c0-value', 'lots');
    await page.fill('#sampleRate', '2');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/rules/new')),
      page.click('button:has-text("Create rule")'),
    ]);
    assert.equal(response.status(), 422);
    assert.match(await page.textContent('.flash.error') ?? '', /The rule was not saved/);
    const messageNear = (id: string) => page.locator(`#${id} + .error-text, #${id} ~ .error-text`).first().textContent();
    assert.match(await messageNear('g0-c0-path') ?? '', /empty name/);
    assert.match(await messageNear('g0-c0-value') ?? '', /enter a number/);
    assert.ok(await page.locator('.field:has(#name) .error-text').count() > 0, 'the empty name is flagged');
    assert.ok(await page.locator('.field:has(#sampleRate) .error-text').count() > 0, 'sample rate 2 is flagged');
    assert.equal(await page.inputValue('#g0-c0-path'), 'order..total', 'what was typed is kept');
  });

  test('editing a rule saves a new version under a new id and retires the old one', async () => {
    await page.goto(url(`/rules/${ruleId}/edit`));
    assert.match(await page.textContent('main') ?? '', /new version with a new id/);
    assert.equal(await page.inputValue('#g0-c1-path'), 'order.items[*].sku');
    await page.fill('#g0-c0-value', '200');
    await page.click('button:has-text("Save as new version")');
    await page.waitForURL(/\/rules\/[0-9a-f-]{36}$/);
    const newId = (await page.textContent('#rule-id'))?.trim() ?? '';
    assert.notEqual(newId, ruleId);
    assert.match(await page.textContent('.flash.success') ?? '', new RegExp(`previous version ${ruleId} was retired`));
    const old = await page.goto(url(`/rules/${ruleId}`));
    assert.equal(old?.status(), 404);
    ruleId = newId;
  });

  test('revoking the API key locks the sensor out', async () => {
    await page.goto(url('/api-keys'));
    await page.locator('tr:has-text("checkout sensor") button:has-text("Revoke")').click();
    await page.waitForURL(url('/api-keys'));
    assert.equal(await page.locator('tr:has-text("checkout sensor") .badge').textContent(), 'revoked');
    const error = await callFailure(sensor.syncRules({ tags: [] }, { apiKey }));
    assert.equal(error.code, GrpcStatus.PERMISSION_DENIED);
  });

  test('the status page shows the version and the database backend', async () => {
    await page.goto(url('/status'));
    assert.equal(await page.textContent('#version'), TEST_BUILD.version);
    assert.equal(await page.textContent('#backend'), 'sqlite');
    assert.match(await page.textContent('#database-url') ?? '', /^sqlite:/);
    assert.match(await page.textContent('#schema-version') ?? '', /^\d+/);
  });

  test('deleting the rule removes it from the list', async () => {
    await page.goto(url('/rules'));
    await page.locator(`tr[data-rule-id="${ruleId}"] button:has-text("Delete")`).click();
    await page.waitForURL(url('/rules'));
    assert.equal(await page.locator(`tr[data-rule-id="${ruleId}"]`).count(), 0);
  });

  test('logging out ends the session', async () => {
    await page.click('button:has-text("Log out")');
    await page.waitForURL(url('/login'));
    await page.goto(url('/rules'));
    assert.match(page.url(), /\/login\?next=%2Frules$/);
  });

  test('a login link whose return address has non-ASCII characters lands there after login', async () => {
    const fresh = await browser.newContext();
    try {
      const tab = await fresh.newPage();
      await tab.goto(url('/login?next=/rules?q=größe€'));
      await tab.fill('#username', ADMIN.username);
      await tab.fill('#password', ADMIN.password);
      const [response] = await Promise.all([tab.waitForNavigation(), tab.click('button:has-text("Log in")')]);
      assert.equal(response?.status(), 200);
      assert.equal(new URL(tab.url()).pathname + new URL(tab.url()).search, `/rules?q=${encodeURIComponent('größe€')}`);
      assert.equal(await tab.textContent('h1'), 'Rules');
    } finally {
      await fresh.close();
    }
  });
});
