import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { imageRepository, parseStackImages } from './prune-images.js';

describe('imageRepository', () => {
  it('strips the tag or digest, keeping a registry port', () => {
    assert.equal(imageRepository('trapperkeeper:1.4.0-3f2a9c1d-20261123T101500Z'), 'trapperkeeper');
    assert.equal(imageRepository('registry.example.com:5000/team/trapperkeeper:1.4.0'), 'registry.example.com:5000/team/trapperkeeper');
    assert.equal(imageRepository('registry.example.com:5000/team/trapperkeeper'), 'registry.example.com:5000/team/trapperkeeper');
    assert.equal(imageRepository('trapperkeeper@sha256:abcd'), 'trapperkeeper');
  });
});

describe('parseStackImages', () => {
  it('keeps only the tags of the stack repository', () => {
    const json = JSON.stringify([
      { Id: 'sha256:1', Created: '2026-11-01T10:00:00Z', RepoTags: ['trapperkeeper:r1', 'other/app:latest', 'trapperkeeper:latest'] },
      { Id: 'sha256:2', Created: '2026-11-02T10:00:00Z', RepoTags: null },
    ]);
    assert.deepEqual(parseStackImages('trapperkeeper', json), [
      { id: 'sha256:1', createdAt: '2026-11-01T10:00:00Z', refs: ['trapperkeeper:latest', 'trapperkeeper:r1'] },
      { id: 'sha256:2', createdAt: '2026-11-02T10:00:00Z', refs: [] },
    ]);
  });
});
