import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secureRandom } from './secure-random.js';

test('secureRandom gives uniform numbers in [0, 1), past the refill of its block', () => {
  const draws = Array.from({ length: 20_000 }, () => secureRandom());
  assert.ok(draws.every((x) => x >= 0 && x < 1));
  const mean = draws.reduce((sum, x) => sum + x, 0) / draws.length;
  assert.ok(Math.abs(mean - 0.5) < 0.02, `mean ${mean}`);
  const belowTenth = draws.filter((x) => x < 0.1).length / draws.length;
  assert.ok(Math.abs(belowTenth - 0.1) < 0.015, `share below 0.1: ${belowTenth}`);
  assert.ok(new Set(draws).size > 19_990, 'draws do not repeat');
});
