import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findSlotProblems, parseContainerInspect, type SlotInspection } from './inspect-slot.js';

const inspectJson = JSON.stringify([
  {
    Image: 'sha256:aaaa',
    RestartCount: 2,
    State: { Status: 'running', Running: true, ExitCode: 0 },
    Config: { Labels: { 'tk.release': 'r1', 'tk.version': '1.0.0', 'tk.image-id': 'sha256:aaaa' } },
  },
]);

describe('parseContainerInspect', () => {
  it('reads image id, state and release labels', () => {
    assert.deepEqual(parseContainerInspect('web-ui', 'tk-blue-web-ui', inspectJson), {
      service: 'web-ui',
      name: 'tk-blue-web-ui',
      exists: true,
      imageId: 'sha256:aaaa',
      state: 'running',
      running: true,
      exitCode: 0,
      restartCount: 2,
      releaseId: 'r1',
      version: '1.0.0',
      labelledImageId: 'sha256:aaaa',
    });
  });

  it('reports an empty inspect result as a missing container', () => {
    assert.deepEqual(parseContainerInspect('web-ui', 'x', '[]'), { service: 'web-ui', name: 'x', exists: false });
  });
});

describe('findSlotProblems', () => {
  const running = parseContainerInspect('web-ui', 'tk-blue-web-ui', inspectJson);

  it('finds nothing wrong with a running container of the intended image and release', () => {
    assert.deepEqual(findSlotProblems([running], { imageId: 'sha256:aaaa', releaseId: 'r1' }), []);
  });

  it('detects a container running another image than the release image', () => {
    assert.deepEqual(findSlotProblems([running], { imageId: 'sha256:bbbb', releaseId: 'r1' }), [
      'tk-blue-web-ui: runs image sha256:aaaa, not the release image sha256:bbbb',
    ]);
  });

  it('detects a stale release, a stopped container and a missing one', () => {
    const exited: SlotInspection = { ...(running as Extract<SlotInspection, { exists: true }>), state: 'exited', running: false, exitCode: 1 };
    assert.deepEqual(
      findSlotProblems([exited, { service: 'sensor-api', name: 'tk-blue-sensor-api', exists: false }], { imageId: 'sha256:aaaa', releaseId: 'r2' }),
      [
        'tk-blue-web-ui: labelled release r1, not r2',
        'tk-blue-web-ui: exited (exit code 1), not running',
        'tk-blue-sensor-api: no such container',
      ],
    );
  });
});
