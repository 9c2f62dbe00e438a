import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closestName, editDistance } from './closest-name.js';

test('a swapped pair of letters is one edit, so "prot" suggests "port"', () => {
  assert.equal(editDistance('prot', 'port'), 1);
  assert.equal(closestName('prot', ['host', 'port', 'http_port']), 'port');
});

test('nothing is suggested when every candidate is too far away', () => {
  assert.equal(closestName('TK_LIBRARY', ['TK_LOG_LEVEL', 'TK_DATA_DIR'], 2), undefined);
  assert.equal(editDistance('', 'abc'), 3);
});
