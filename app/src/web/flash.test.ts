import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLASH_TTL_MS, FlashStore } from './flash.js';

test('a flash is shown once to its owner only', () => {
  const store = new FlashStore();
  store.push('session-a', { kind: 'success', message: 'Saved' });
  assert.deepEqual(store.take('session-b'), []);
  assert.deepEqual(store.take('session-a'), [{ kind: 'success', message: 'Saved' }]);
  assert.deepEqual(store.take('session-a'), []);
});

test('a flash nobody picks up expires', () => {
  let now = 1_000;
  const store = new FlashStore(() => now);
  store.push('session-a', { kind: 'new-api-key', message: 'Created', name: 'k', key: 'tk-v1-secret' });
  now += FLASH_TTL_MS + 1;
  assert.deepEqual(store.take('session-a'), []);
});
