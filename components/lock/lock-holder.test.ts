import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decideStale, decodeLockLabels, describeHolder, encodeLockLabels, formatAge, type LockHolder } from './lock-holder.js';

const holder: LockHolder = {
  user: 'alice',
  host: 'laptop',
  pid: 4242,
  pidNamespace: 'boot-1:pid:[4026531836]',
  releaseId: '1.4.0-3f2a9c1d-20261123T101500Z',
  version: '1.4.0',
  startedAt: new Date('2026-11-23T10:15:00.000Z'),
};

describe('lock labels', () => {
  test('a holder survives the round trip through container labels', () => {
    const labels = encodeLockLabels(holder, 'dev');
    assert.equal(labels['org.trapperkeeper.deploy-lock.stack'], 'dev');
    assert.deepEqual(decodeLockLabels(labels), { ok: true, holder });
  });

  test('missing and malformed labels are all reported, never guessed', () => {
    const labels = encodeLockLabels(holder, 'dev');
    labels['org.trapperkeeper.deploy-lock.pid'] = '12ab';
    labels['org.trapperkeeper.deploy-lock.started-at'] = 'yesterday';
    delete labels['org.trapperkeeper.deploy-lock.user'];
    const decoded = decodeLockLabels(labels);
    assert.equal(decoded.ok, false);
    assert.deepEqual(!decoded.ok && decoded.problems, [
      'label org.trapperkeeper.deploy-lock.user is missing',
      'label org.trapperkeeper.deploy-lock.pid is not a process id: "12ab"',
      'label org.trapperkeeper.deploy-lock.started-at is not an ISO UTC time: "yesterday"',
    ]);
  });

  test('a container without labels is unreadable', () => {
    const decoded = decodeLockLabels(null);
    assert.equal(decoded.ok, false);
    assert.equal(!decoded.ok && decoded.problems.length, 6);
  });
});

describe('stale lock decision', () => {
  const here = { host: 'laptop', pidNamespace: 'boot-1:pid:[4026531836]' };
  const dead = () => false;
  const alive = () => true;

  test('a holder on this machine whose pid is gone is stale', () => {
    assert.deepEqual(decideStale(holder, here, dead), { stale: true, reason: 'process 4242 on laptop no longer exists' });
  });

  test('a holder on this machine whose pid runs is not stale', () => {
    assert.equal(decideStale(holder, here, alive).stale, false);
  });

  test('a holder on another host is never stale, whatever our pid table says', () => {
    const decision = decideStale({ ...holder, host: 'ci-runner-7' }, here, dead);
    assert.equal(decision.stale, false);
    assert.match(decision.reason, /another machine \(ci-runner-7\)/);
  });

  test('a holder with the same host name in another pid namespace or boot is never stale', () => {
    assert.equal(decideStale({ ...holder, pidNamespace: 'boot-2:pid:[4026531836]' }, here, dead).stale, false);
    assert.equal(decideStale({ ...holder, pidNamespace: undefined }, here, dead).stale, false);
  });
});

describe('holder description', () => {
  test('names user, host, pid, version, release, start time and age', () => {
    assert.equal(
      describeHolder(holder, new Date('2026-11-23T10:18:12.500Z')),
      'alice@laptop (pid 4242) releasing 1.4.0 [1.4.0-3f2a9c1d-20261123T101500Z] since 2026-11-23T10:15:00.000Z (3m 12s ago)',
    );
  });

  test('ages read in the two largest units', () => {
    assert.deepEqual(
      [0, 45_000, 192_000, 7_500_000, 277_200_000, -5000].map(formatAge),
      ['0s', '45s', '3m 12s', '2h 5m', '3d 5h', '0s'],
    );
  });
});
