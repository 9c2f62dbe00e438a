import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createDeployEvents, type DeployEventFormat } from './deploy-events.js';
import { formatDeployEventLine } from './human-lines.js';

function collect(format: DeployEventFormat, jsonFile?: string) {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  const events = createDeployEvents({ destination, format, ...(jsonFile ? { jsonFile } : {}) });
  return { events, lines: () => chunks.join('').split('\n').filter((line) => line !== '') };
}

/** What a release emits, in order (the fields as the pipeline passes them). */
function emitRelease(events: ReturnType<typeof collect>['events']) {
  events.emit('release.started', { stack: 'dev', release: '0.3.0-3f2a9c1d', image: 'tk-dev/trapperkeeper:0.3.0-3f2a9c1d' });
  events.emit('lock.acquired', { lock: 'tk-dev-deploy-lock', durationMs: 212 });
  events.emit('slot.started', { slot: 'green', release: '0.3.0-3f2a9c1d', durationMs: 1874 });
  events.emit('gate.passed', { slot: 'green', release: '0.3.0-3f2a9c1d', durationMs: 4612 });
  events.emit('promoted', { slot: 'green', release: '0.3.0-3f2a9c1d', previous: '0.2.9-aaaaaaaa', durationMs: 2103 });
  events.emit('release.succeeded', { release: '0.3.0-3f2a9c1d', slot: 'green', phases: { lock: 212 }, durationMs: 12_345 });
  events.emit('lock.released', { lock: 'tk-dev-deploy-lock', databaseUrl: 'postgres://trapperkeeper:hunter2-secret@db/tk' });
}

describe('deployment events', () => {
  it('shows a person one line per event, with what happened and how long it took', () => {
    const { events, lines } = collect('human');
    emitRelease(events);
    const shown = lines();
    assert.equal(shown.length, 7, shown.join('\n'));
    assert.match(shown[0]!, /^\d\d:\d\d:\d\d ✓ release started {2}stack=dev release=0\.3\.0-3f2a9c1d$/);
    assert.match(shown[3]!, /✓ health gate passed {2}release=0\.3\.0-3f2a9c1d slot=green \(4\.6 s\)$/);
    assert.match(shown[4]!, /✓ traffic switched and verified .*previous=0\.2\.9-aaaaaaaa \(2\.1 s\)$/);
    assert.match(shown[5]!, /✓ release live .* \(12 s\)$/);
    for (const line of shown) assert.doesNotMatch(line, /[{}]|hunter2/, `no JSON and no secret: ${line}`);
  });

  it('writes JSON lines for machines, secrets redacted, with the same events', () => {
    const { events, lines } = collect('json');
    emitRelease(events);
    const records = lines().map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(records.map((record) => record.event), ['release.started', 'lock.acquired', 'slot.started', 'gate.passed', 'promoted', 'release.succeeded', 'lock.released']);
    assert.equal(records[3]!.durationMs, 4612);
    assert.equal(records[6]!.databaseUrl, '[redacted]');
  });

  it('also appends every event as JSON to a file when asked, beside the human lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tk-events-'));
    try {
      const file = join(dir, 'events', 'dev.jsonl');
      const { events, lines } = collect('human', file);
      emitRelease(events);
      const records = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      assert.equal(records.length, 7);
      assert.equal(records.at(-1)!.databaseUrl, '[redacted]');
      assert.equal(lines().length, 7, 'the human lines are not doubled');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hands every event to its subscribers after logging it, and a subscriber that throws breaks neither the emit nor the others', () => {
    const { events, lines } = collect('json');
    const seen: string[] = [];
    events.subscribe(() => {
      throw new Error('sink exploded');
    });
    const unsubscribe = events.subscribe((record) => seen.push(`${record.event}/${record.level}/${record.message}/${String(record.fields.release)}`));
    events.emit('release.started', { release: 'r1' });
    events.emit('release.failed', { release: 'r1', error: 'gate timed out' }, 'error');
    unsubscribe();
    events.emit('lock.released', { lock: 'l' });
    assert.deepEqual(seen, ['release.started/info/release started/r1', 'release.failed/error/release failed/r1']);
    const records = lines().map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(records.map((record) => record.event ?? record.msg), ['release.started', 'a subscriber of release.started failed', 'release.failed', 'a subscriber of release.failed failed', 'lock.released', 'a subscriber of lock.released failed']);
    assert.equal(records[1]!.reason, 'sink exploded');
  });

  it('marks warnings and failures and keeps the error on the line', () => {
    const line = formatDeployEventLine({ level: 50, time: '2026-12-02T10:15:02.123Z', msg: 'release failed', release: 'r2', error: 'gate timed out', durationMs: 61_000 });
    assert.equal(line, '10:15:02 ✗ release failed  release=r2 error=gate timed out (61 s)');
    assert.match(formatDeployEventLine({ level: 40, time: '2026-12-02T10:15:02.123Z', msg: 'waiting for the deploy lock', holder: 'alice' }), /^10:15:02 ! waiting/);
  });
});
