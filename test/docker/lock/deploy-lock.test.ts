import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { after, afterEach, before, describe, test } from 'node:test';
import { createDeployEvents, type DeployEvents } from '../../../components/events/deploy-events.js';
import {
  acquireDeployLock,
  breakDeployLock,
  DeployLockHeldError,
  lockContainerName,
  readDeployLock,
} from '../../../providers/docker/lock/index.js';
import { lockHolderForThisProcess, type LockHolder } from '../../../components/lock/index.js';
import { REPO_ROOT, requireDocker, testEngine, uniqueName } from '../../support/images.js';

const lockImage = `${uniqueName('tk-test-lock-image')}:1`;
const prefixes: string[] = [];

function newStack(): { stack: string; prefix: string } {
  const prefix = uniqueName('tk-test-lock');
  prefixes.push(prefix);
  return { stack: 'lock-test', prefix };
}

function holderFor(version: string, overrides: Partial<LockHolder> = {}): LockHolder {
  return { ...lockHolderForThisProcess({ releaseId: `${version}-abc1234-20261123T101500Z`, version }), ...overrides };
}

function recordingEvents(): { events: DeployEvents; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const events = createDeployEvents({ destination, format: 'json', level: 'debug' });
  return {
    events,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** A pid that existed on this machine a moment ago and no longer does. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  assert.ok(child.pid);
  return child.pid;
}

before(requireDocker);

afterEach(async () => {
  for (const prefix of prefixes.splice(0)) await testEngine.exec(['container', 'rm', '--force', lockContainerName(prefix)]);
});

after(async () => {
  await testEngine.exec(['image', 'rm', lockImage]);
});

describe('deploy lock on a real Docker engine', () => {
  test('a second acquire is refused with who holds it, for which version and since when', async () => {
    const spec = newStack();
    const first = await acquireDeployLock(testEngine, spec, holderFor('1.4.0', { user: 'alice' }), { image: lockImage });
    const refused = await acquireDeployLock(testEngine, spec, holderFor('1.5.0'), { image: lockImage }).then(
      () => assert.fail('the second acquire must be refused'),
      (error: unknown) => error,
    );
    assert.ok(refused instanceof DeployLockHeldError);
    assert.match(
      refused.message,
      new RegExp(`^Another release holds the deploy lock: alice@\\S+ \\(pid ${process.pid}\\) releasing 1\\.4\\.0 \\[1\\.4\\.0-abc1234-20261123T101500Z\\] since \\S+Z \\(\\d+s ago\\)`),
    );
    assert.match(refused.message, /fix: .*node launcher\/release-cli\.mjs lock break --stack lock-test/);
    const status = await readDeployLock(testEngine, spec);
    assert.equal(status.state, 'held');
    assert.equal(status.state === 'held' && status.holder.version, '1.4.0');
    await first.release();
    assert.equal((await readDeployLock(testEngine, spec)).state, 'free');
  });

  test('a waiting acquire succeeds once the holder releases', async () => {
    const spec = newStack();
    const first = await acquireDeployLock(testEngine, spec, holderFor('1.4.0'), { image: lockImage });
    let releasedAt = 0;
    setTimeout(() => {
      releasedAt = Date.now();
      void first.release();
    }, 1500);
    const second = await acquireDeployLock(testEngine, spec, holderFor('1.5.0'), { image: lockImage, waitMs: 20_000, pollMs: 200 });
    assert.ok(releasedAt > 0, 'the second release got the lock only after the first released it');
    const status = await readDeployLock(testEngine, spec);
    assert.equal(status.state === 'held' && status.holder.version, '1.5.0');
    await second.release();
  });

  test('a waiting acquire gives up after the wait with the holder named', async () => {
    const spec = newStack();
    const first = await acquireDeployLock(testEngine, spec, holderFor('1.4.0'), { image: lockImage });
    const started = Date.now();
    await assert.rejects(
      acquireDeployLock(testEngine, spec, holderFor('1.5.0'), { image: lockImage, waitMs: 1200, pollMs: 300 }),
      /releasing 1\.4\.0 .* \(waited 1s\)/,
    );
    assert.ok(Date.now() - started >= 1200);
    await first.release();
  });

  test('a lock whose holder pid on this machine is gone is taken over, and the takeover is logged', async () => {
    const spec = newStack();
    await acquireDeployLock(testEngine, spec, holderFor('1.3.0', { pid: deadPid() }), { image: lockImage });
    const { events, lines } = recordingEvents();
    const lock = await acquireDeployLock(testEngine, spec, holderFor('1.4.0'), { image: lockImage, events });
    const status = await readDeployLock(testEngine, spec);
    assert.equal(status.state === 'held' && status.holder.pid, process.pid);
    const broken = lines().find((line) => line.event === 'lock.broken');
    assert.ok(broken, 'the automatic break is logged');
    assert.equal(broken.automatic, true);
    assert.match(String(broken.reason), /no longer exists/);
    assert.equal((broken.holder as Record<string, unknown>).version, '1.3.0');
    assert.ok(lines().some((line) => line.event === 'lock.acquired'));
    await lock.release();
  });

  test('a lock held from another host is never broken automatically, even with a pid that is dead here', async () => {
    const spec = newStack();
    await acquireDeployLock(testEngine, spec, holderFor('1.3.0', { host: 'ci-runner-elsewhere', pid: deadPid() }), { image: lockImage });
    await assert.rejects(
      acquireDeployLock(testEngine, spec, holderFor('1.4.0'), { image: lockImage, waitMs: 600, pollMs: 200 }),
      /Another release holds the deploy lock: \S+@ci-runner-elsewhere/,
    );
    const status = await readDeployLock(testEngine, spec);
    assert.equal(status.state === 'held' && status.holder.host, 'ci-runner-elsewhere');
  });

  test('a lock with unparsable labels is reported and left in place', async () => {
    const spec = newStack();
    const name = lockContainerName(spec.prefix);
    // Any release path imports the lock image; this test creates the lock by hand.
    await acquireDeployLock(testEngine, newStack(), holderFor('0.0.0'), { image: lockImage });
    await testEngine.run(['container', 'create', '--name', name, '--label', 'org.trapperkeeper.deploy-lock.pid=abc', lockImage, 'deploy-lock']);
    await assert.rejects(
      acquireDeployLock(testEngine, spec, holderFor('1.4.0'), { image: lockImage }),
      (error: unknown) => {
        assert.ok(error instanceof DeployLockHeldError);
        assert.match(error.message, /exists but its labels cannot be read \(.*pid is not a process id: "abc".*\); it is never broken automatically/);
        assert.match(error.message, /lock break --stack lock-test/);
        return true;
      },
    );
    assert.equal((await readDeployLock(testEngine, spec)).state, 'unreadable');
  });

  test('breaking the lock is explicit and logged, and the old holder\'s release then leaves the new lock alone', async () => {
    const spec = newStack();
    const old = await acquireDeployLock(testEngine, spec, holderFor('1.3.0', { host: 'gone-host' }), { image: lockImage });
    const { events, lines } = recordingEvents();
    const broken = await breakDeployLock(testEngine, spec, { events, by: 'bob', reason: 'the runner died' });
    assert.equal(broken.state === 'held' && broken.holder.host, 'gone-host');
    const line = lines().find((entry) => entry.event === 'lock.broken');
    assert.equal(line?.automatic, false);
    assert.equal(line?.by, 'bob');
    assert.equal((line?.holder as Record<string, unknown>).version, '1.3.0');

    const current = await acquireDeployLock(testEngine, spec, holderFor('1.4.0'), { image: lockImage });
    await old.release();
    await old.release();
    const status = await readDeployLock(testEngine, spec);
    assert.equal(status.state === 'held' && status.holder.version, '1.4.0');
    await current.release();
    await current.release();
    assert.equal((await readDeployLock(testEngine, spec)).state, 'free');
    assert.equal((await breakDeployLock(testEngine, spec)).state, 'free');
  });

  test('two OS processes acquiring at the same moment: exactly one wins', async () => {
    const spec = newStack();
    const contenders = ['a', 'b'].map((label) =>
      spawn(process.execPath, ['--import', 'tsx', 'test/docker/lock/lock-contender.ts', spec.prefix, lockImage, label], { cwd: REPO_ROOT }),
    );
    try {
      const outputs = contenders.map((child) => createInterface({ input: child.stdout })[Symbol.asyncIterator]());
      const readLine = async (index: number): Promise<string> => String((await outputs[index]!.next()).value ?? '');
      assert.deepEqual(await Promise.all([readLine(0), readLine(1)]), ['ready', 'ready']);
      for (const child of contenders) child.stdin.write('go\n');
      const results = (await Promise.all([readLine(0), readLine(1)])).map(
        (line) => JSON.parse(line) as { label: string; won: boolean; message?: string },
      );
      const winners = results.filter((result) => result.won);
      assert.equal(winners.length, 1, JSON.stringify(results));
      const loser = results.find((result) => !result.won);
      assert.match(loser?.message ?? '', new RegExp(`Another release holds the deploy lock: .* releasing ${winners[0]!.label} `));
      const status = await readDeployLock(testEngine, spec);
      assert.equal(status.state === 'held' && status.holder.version, winners[0]!.label);
      for (const child of contenders) child.stdin.end('release\n');
      await Promise.all(contenders.map(exited));
      assert.equal((await readDeployLock(testEngine, spec)).state, 'free');
    } finally {
      for (const child of contenders) if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

function exited(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}
