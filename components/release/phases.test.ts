import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { allSettledOrThrow } from './phases.js';

describe('allSettledOrThrow (steps a release runs at the same time)', () => {
  it('waits for the slower step to finish before it reports the faster one\'s failure', async () => {
    let slowFinished = false;
    const slow = sleep(60).then(() => {
      slowFinished = true;
    });
    await assert.rejects(allSettledOrThrow([Promise.reject(new Error('start failed')), slow]), /start failed/);
    assert.equal(slowFinished, true, 'nothing is left running once the release gives up');
  });

  it('throws the first failure in order when several fail, and resolves when none does', async () => {
    await assert.rejects(allSettledOrThrow([sleep(20).then(() => Promise.reject(new Error('first'))), Promise.reject(new Error('second'))]), /first/);
    await allSettledOrThrow([sleep(5), Promise.resolve(1)]);
  });
});
