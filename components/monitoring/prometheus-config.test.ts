import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { PROMETHEUS_FILES, prometheusArgs, renderAppScrapeTargets, renderPrometheusConfig } from './prometheus-config.js';

describe('Prometheus config and scrape targets', () => {
  test('during a release both slots are scraped, the starting one marked candidate', () => {
    const files = renderAppScrapeTargets([
      { service: 'sensor-api', address: 'tk-prod-blue-sensor-api:9090', slot: 'blue', role: 'live' },
      { service: 'web-ui', address: 'tk-prod-blue-web-ui:9091', slot: 'blue', role: 'live' },
      { service: 'sensor-api', address: 'tk-prod-green-sensor-api:9090', slot: 'green', role: 'candidate' },
    ]);
    assert.deepEqual(JSON.parse(files[PROMETHEUS_FILES.appTargets('sensor-api')]!), [
      { targets: ['tk-prod-blue-sensor-api:9090'], labels: { slot: 'blue', role: 'live' } },
      { targets: ['tk-prod-green-sensor-api:9090'], labels: { slot: 'green', role: 'candidate' } },
    ]);
    assert.deepEqual(JSON.parse(files[PROMETHEUS_FILES.appTargets('web-ui')]!), [
      { targets: ['tk-prod-blue-web-ui:9091'], labels: { slot: 'blue', role: 'live' } },
    ]);
  });

  test('a service with no instance still gets its (empty) file, so Prometheus forgets the old ones', () => {
    const files = renderAppScrapeTargets([]);
    assert.deepEqual(Object.keys(files).sort(), ['targets/trapperkeeper-sensor-api.json', 'targets/trapperkeeper-web-ui.json']);
    for (const text of Object.values(files)) assert.deepEqual(JSON.parse(text), []);
  });

  test('retention is a flag, the stack an external label, an exporter kind without address no job', () => {
    assert.ok(prometheusArgs({ configDir: '/etc/prometheus', dataDir: '/prometheus', retention: '15d', listenAddress: '0.0.0.0:9090' }).includes('--storage.tsdb.retention.time=15d'));
    const config = parseYaml(renderPrometheusConfig({
      stack: 'prod', scrapeInterval: '15s', evaluationInterval: '15s', configDir: '/etc/prometheus', alertmanagers: ['am:9093'],
      exporters: { node: ['ne:9100'], postgres: ['pe:9187'], cadvisor: [] },
    })) as { global: { external_labels: Record<string, string> }; scrape_configs: { job_name: string }[] };
    assert.deepEqual(config.global.external_labels, { stack: 'prod' });
    assert.deepEqual(config.scrape_configs.map((job) => job.job_name), ['trapperkeeper-sensor-api', 'trapperkeeper-web-ui', 'node', 'postgres']);
  });
});
