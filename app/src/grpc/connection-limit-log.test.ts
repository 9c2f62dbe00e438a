import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../log/logger.js';
import { ConnectionLimitLog } from './connection-limit-log.js';

function capture() {
  const lines: Array<Record<string, any>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, any>);
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'info', pretty: false }, stream) };
}

test('a flood of shed and refused connections writes one line at once and then one summary per interval', (context) => {
  context.mock.timers.enable({ apis: ['setTimeout'] });
  const { lines, logger } = capture();
  const log = new ConnectionLimitLog(logger, 60_000);
  log.note('shed', 'max_connections', '192.0.2.1');
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.level, 40);
  for (let index = 0; index < 1000; index++) log.note('shed', 'max_connections', `192.0.2.${index % 7}`);
  log.note('refused', 'max_connections_per_address', '192.0.2.9');
  assert.equal(lines.length, 1);

  context.mock.timers.tick(60_000);
  assert.equal(lines.length, 2);
  assert.deepEqual(lines[1]!.connections, { 'shed:max_connections': 1000, 'refused:max_connections_per_address': 1 });
  assert.equal(Object.keys(lines[1]!.addresses).length, 5);

  context.mock.timers.tick(60_000);
  assert.equal(lines.length, 2, 'a quiet interval writes nothing');
  log.note('shed', 'handshake_timeout', '192.0.2.1');
  assert.equal(lines.length, 3, 'after a quiet interval the next event is logged at once');
  assert.equal(lines[2]!.level, 30, 'handshake timeouts alone are info');
  log.close();
});
