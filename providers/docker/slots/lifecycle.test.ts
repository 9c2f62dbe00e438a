import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planRemoveContainers, planStopContainer } from './lifecycle.js';
import { slotStopTimeoutSeconds } from './stop-timeout.js';

describe('slot lifecycle commands', () => {
  it('stops a container with SIGTERM and a stop timeout at least the drain timeout', () => {
    assert.deepEqual(planStopContainer('tk-blue-web-ui', 15_000), ['stop', '--time', '20', 'tk-blue-web-ui']);
    for (const drainMs of [0, 1, 999, 1000, 1001, 30_000, 123_456]) {
      assert.ok(slotStopTimeoutSeconds(drainMs) * 1000 >= drainMs, `stop timeout for ${drainMs} ms`);
    }
  });

  it('removes containers with their anonymous volumes', () => {
    assert.deepEqual(planRemoveContainers(['a', 'b']), ['rm', '--force', '--volumes', 'a', 'b']);
  });
});
