import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MONITORING_IMAGES } from './images.js';
import { DEFAULT_MONITORING_SECTION, MONITORING_CONFIG_EXAMPLES, durationMs, isPrometheusDuration, monitoringSectionSchema } from './settings.js';

function problems(input: unknown): string[] {
  const result = monitoringSectionSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

const { cadvisor: _cadvisor, ...DEFAULT_MONITORING_IMAGES_WITHOUT_CADVISOR } = DEFAULT_MONITORING_IMAGES;

describe('the monitoring section of the stack config', () => {
  test('defaults: off, 15 days of samples, 5% errors, 90% disk, 85% memory, no receivers', () => {
    assert.deepEqual(DEFAULT_MONITORING_SECTION, {
      enabled: false,
      retention: '15d',
      scrapeInterval: '15s',
      evaluationInterval: '15s',
      alerts: { errorRatio: 0.05, diskUsedRatio: 0.9, memoryUsedRatio: 0.85 },
      notify: { groupWait: '30s', groupInterval: '5m', repeatInterval: '4h' },
      grafana: { port: 3000, bindAddress: '127.0.0.1' },
      images: { ...DEFAULT_MONITORING_IMAGES_WITHOUT_CADVISOR },
    });
  });

  test('every wrong value is reported at once, with its key and what it must be', () => {
    assert.deepEqual(problems({ retention: '15 days', alerts: { errorRatio: 5 }, notify: { ntfyUrl: 'ntfy.sh/topic' }, grafna: {} }), [
      'retention: must be a Prometheus duration such as 15d or 30d (units y, w, d, h, m, s, ms, largest first)',
      'alerts.errorRatio: must be below 1 (a share: 0.9 is 90%)',
      'notify.ntfyUrl: must be an http:// or https:// URL, e.g. https://ntfy.sh/tk-alerts-3f2a9c',
      ': Unrecognized key: "grafna"',
    ]);
  });

  test('Prometheus durations: its grammar, largest unit first, never zero', () => {
    for (const ok of ['15d', '1h30m', '90s', '2w', '500ms', '1y2w3d4h5m6s7ms']) assert.ok(isPrometheusDuration(ok), ok);
    for (const bad of ['', '0s', '15 d', '30m1h', '1.5h', 'd']) assert.ok(!isPrometheusDuration(bad), bad);
    assert.equal(durationMs('1h30m'), 5_400_000);
  });

  test('every key has an example for the fix of a config problem', () => {
    const keys = (shape: Record<string, unknown>, prefix: string): string[] =>
      Object.entries(shape).flatMap(([key, value]) =>
        value !== null && typeof value === 'object' && !Array.isArray(value) ? keys(value as Record<string, unknown>, `${prefix}${key}.`) : [`${prefix}${key}`]);
    const all = monitoringSectionSchema.parse({ notify: { webhookUrl: 'https://a.example', ntfyUrl: 'https://ntfy.sh/x' } });
    assert.deepEqual(keys(all, 'monitoring.').sort(), Object.keys(MONITORING_CONFIG_EXAMPLES).sort());
    for (const [key, example] of Object.entries(MONITORING_CONFIG_EXAMPLES)) {
      const path = key.split('.').slice(1);
      const value = example === 'true' ? true : /^\d+(\.\d+)?$/.test(example) ? Number(example) : example;
      const input = path.reduceRight<unknown>((inner, part) => ({ [part]: inner }), value);
      assert.deepEqual(problems(input), [], key);
    }
  });
});
