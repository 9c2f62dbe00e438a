import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planLoadCaddyConfig } from './load-caddy-config.js';

describe('planLoadCaddyConfig', () => {
  it('loads the whole config through the admin API on the Caddy container loopback, never skipping an identical one', () => {
    assert.deepEqual(planLoadCaddyConfig('tk-dev-caddy'), [
      'exec', '--interactive', 'tk-dev-caddy',
      'caddy', 'reload', '--config', '-', '--address', 'localhost:2019', '--force',
    ]);
  });
});
