import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assessDrain } from './drain-slot.js';

describe('assessDrain', () => {
  it('is clean when every running container exited 0 on its own after SIGTERM', () => {
    assert.deepEqual(
      assessDrain('blue', [
        { name: 'tk-blue-sensor-api', wasRunning: true, exitCode: 0, stoppedInMs: 300 },
        { name: 'tk-blue-web-ui', wasRunning: false, exitCode: 0, stoppedInMs: 0 },
      ]),
      {
        slot: 'blue',
        clean: true,
        containers: [
          { name: 'tk-blue-sensor-api', wasRunning: true, exitCode: 0, stoppedInMs: 300, outcome: 'drained' },
          { name: 'tk-blue-web-ui', wasRunning: false, exitCode: 0, stoppedInMs: 0, outcome: 'already-stopped' },
        ],
      },
    );
  });

  it('reports a container Docker had to kill after the stop timeout (in-flight requests may have been cut)', () => {
    const report = assessDrain('green', [
      { name: 'tk-green-sensor-api', wasRunning: true, exitCode: 137, stoppedInMs: 20_000 },
      { name: 'tk-green-web-ui', wasRunning: true, exitCode: 1, stoppedInMs: 200 },
    ]);
    assert.equal(report.clean, false);
    assert.deepEqual(report.containers.map((c) => c.outcome), ['killed', 'exited-with-error']);
  });
});
