import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ThreadGroup } from '../../src/threads/thread-group.js';
import { ThreadCallError } from '../../src/threads/worker-thread.js';
import { LogCapture } from '../grpc/harness.js';
import { createLogger } from '../../src/log/logger.js';
import type { EchoRequest, EchoSettings } from '../support/threads/echo-thread.js';

const started: ThreadGroup<EchoRequest, unknown>[] = [];
after(async () => {
  await Promise.all(started.map((group) => group.close()));
});

async function echoThreads(size: number, settings: EchoSettings = {}, logs = new LogCapture()) {
  const group = await ThreadGroup.start<EchoRequest, unknown>({
    name: 'echo thread',
    entry: new URL('../support/threads/echo-thread.js', import.meta.url),
    workerData: settings,
    size,
    logger: createLogger({ level: 'debug', pretty: false }, logs),
  });
  started.push(group);
  return group;
}

async function untilRunning(group: ThreadGroup<EchoRequest, unknown>, count: number): Promise<void> {
  for (let waited = 0; group.running() < count && waited < 10_000; waited += 20) await sleep(20);
  assert.equal(group.running(), count);
}

describe('worker threads (ThreadGroup)', () => {
  test('calls are answered in any order, and a thrown error keeps its message and code', async () => {
    const group = await echoThreads(1);
    const thread = group.leastBusy();
    assert.ok(thread);
    const slow = thread.call({ kind: 'echo', value: { slow: true }, delayMs: 50 });
    const fast = thread.call({ kind: 'echo', value: [1, 'two', new Date(0)] });
    assert.equal(thread.pendingCalls, 2);
    assert.deepEqual(await fast, [1, 'two', new Date(0)]);
    assert.deepEqual(await slow, { slow: true });
    const failure = await thread.call({ kind: 'fail', message: 'database is locked', code: 'SQLITE_BUSY' }).catch((error: unknown) => error);
    assert.ok(failure instanceof ThreadCallError);
    assert.equal(failure.code, 'SQLITE_BUSY');
    assert.match(failure.message, /^echo thread: database is locked$/);
  });

  test('calls go to the least busy thread', async () => {
    const group = await echoThreads(2);
    const first = group.leastBusy();
    const held = first?.call({ kind: 'echo', value: 'held', delayMs: 100 });
    const second = group.leastBusy();
    assert.ok(first && second && first !== second);
    assert.equal(await held, 'held');
  });

  for (const [how, request] of [['crashes', { kind: 'crash' }], ['exits', { kind: 'exit', code: 3 }]] as const) {
    test(`a thread that ${how} fails only its own calls and is replaced`, async () => {
      const logs = new LogCapture();
      const group = await echoThreads(1, {}, logs);
      const thread = group.leastBusy();
      assert.ok(thread);
      const pending = thread.call({ kind: 'echo', value: 'never answered', delayMs: 60_000 });
      await assert.rejects(thread.call(request), /echo thread handling this call (crashed|exited)/);
      await assert.rejects(pending, /echo thread handling this call (crashed|exited)/);
      await untilRunning(group, 1);
      assert.notEqual(group.leastBusy(), thread);
      assert.equal(await group.leastBusy()?.call({ kind: 'echo', value: 'after' }), 'after');
      assert.match(logs.text(), /echo thread stopped; starting a new one/);
    });
  }

  test('a thread that cannot load fails the start, and none is left running', async () => {
    await assert.rejects(echoThreads(2, { failToLoad: true }), /told not to load/);
  });

  test('close fails the unanswered calls and leaves no thread', async () => {
    const group = await echoThreads(2);
    const pending = group.leastBusy()?.call({ kind: 'echo', value: 'late', delayMs: 60_000 }).catch((error: unknown) => error);
    await group.close();
    assert.match(String(await pending), /echo thread was stopped/);
    assert.equal(group.closed, true);
    assert.equal(group.running(), 0);
    assert.equal(group.leastBusy(), undefined);
  });
});
