import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DeployError } from '../errors.js';
import { planImagePrune, type StackImage } from './plan-image-prune.js';

const image = (n: number, day: number): StackImage => ({
  id: `sha256:${n}`,
  createdAt: `2026-11-${String(day).padStart(2, '0')}T10:00:00.000000000Z`,
  refs: [`trapperkeeper:r${n}`],
});
// Listed out of order on purpose: creation time decides, not the listing.
const images = [image(3, 3), image(1, 1), image(7, 7), image(5, 5), image(2, 2), image(6, 6), image(4, 4)];

const ids = (list: StackImage[]) => list.map((i) => i.id);

describe('planImagePrune', () => {
  it('keeps the newest N release images by creation time and removes the rest', () => {
    const plan = planImagePrune(images, { keep: 3, live: 'sha256:7', previous: 'sha256:6' });
    assert.deepEqual(plan.keep.map((k) => [k.image.id, k.reasons]), [
      ['sha256:7', ['live', 'recent']],
      ['sha256:6', ['previous', 'recent']],
      ['sha256:5', ['recent']],
    ]);
    assert.deepEqual(ids(plan.remove), ['sha256:4', 'sha256:3', 'sha256:2', 'sha256:1']);
  });

  it('never removes the live or previous slot\'s image, even when older than the newest N', () => {
    const plan = planImagePrune(images, { keep: 2, live: 'sha256:2', previous: 'sha256:1' });
    assert.deepEqual(plan.keep.map((k) => [k.image.id, k.reasons]), [
      ['sha256:7', ['recent']],
      ['sha256:6', ['recent']],
      ['sha256:2', ['live']],
      ['sha256:1', ['previous']],
    ]);
    assert.deepEqual(ids(plan.remove), ['sha256:5', 'sha256:4', 'sha256:3']);
  });

  it('keeps images a container of the stack uses', () => {
    const plan = planImagePrune(images, { keep: 1, live: 'sha256:7', previous: null, inUse: ['sha256:3'] });
    assert.deepEqual(ids(plan.remove), ['sha256:6', 'sha256:5', 'sha256:4', 'sha256:2', 'sha256:1']);
  });

  it('keeps the newest N and removes nothing when there are fewer', () => {
    assert.deepEqual(ids(planImagePrune(images, { keep: 5, live: null, previous: null }).remove), ['sha256:2', 'sha256:1']);
    assert.deepEqual(planImagePrune(images.slice(0, 2), { keep: 5, live: null, previous: null }).remove, []);
  });

  it('refuses a keep count below 1', () => {
    assert.throws(() => planImagePrune(images, { keep: 0, live: null, previous: null }), DeployError);
  });
});
