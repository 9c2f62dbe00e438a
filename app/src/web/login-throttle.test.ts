import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoginThrottle, throttleAddress } from './login-throttle.js';

const POLICY = { failuresPerAddressAccount: 3, failuresPerAddress: 10, failuresPerAccount: 9, backoffMaxMs: 60_000 };

function throttleAt(start = 0) {
  const clock = { now: start };
  return { clock, throttle: new LoginThrottle(POLICY, () => clock.now) };
}

test('after the free failures each failure doubles the wait, up to the maximum, and the record expires', () => {
  const { clock, throttle } = throttleAt();
  const waits: number[] = [];
  for (let i = 0; i < 12; i += 1) {
    clock.now += throttle.check('10.0.0.1', 'admin').waitMs;
    throttle.recordFailure('10.0.0.1', 'admin');
    waits.push(throttle.check('10.0.0.1', 'admin').waitMs);
  }
  assert.deepEqual(waits, [0, 0, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000, 60000]);
  clock.now += POLICY.backoffMaxMs + 1;
  assert.equal(throttle.check('10.0.0.1', 'admin').waitMs, 0);
  throttle.recordFailure('10.0.0.1', 'admin');
  assert.equal(throttle.check('10.0.0.1', 'admin').waitMs, 0, 'forgotten: the count starts again');
});

test('one address, however long it keeps guessing, never throttles the account for other addresses', () => {
  const { clock, throttle } = throttleAt();
  for (let i = 0; i < 200; i += 1) {
    clock.now += throttle.check('10.0.0.1', 'admin').waitMs;
    throttle.recordFailure('10.0.0.1', 'admin');
  }
  assert.ok(throttle.check('10.0.0.1', 'admin').waitMs > 0);
  assert.deepEqual(throttle.check('10.0.0.2', 'admin'), { waitMs: 0 });
});

test('guesses from many addresses throttle the account, except for an address that logged in to it before', () => {
  const { throttle } = throttleAt();
  throttle.recordSuccess('10.0.0.99', 'admin');
  for (let address = 1; address <= 3; address += 1) {
    for (let i = 0; i < POLICY.failuresPerAddressAccount; i += 1) throttle.recordFailure(`10.0.1.${address}`, 'admin');
  }
  assert.equal(throttle.check('10.0.0.50', 'Admin').scope, 'account', 'usernames count case-insensitively');
  assert.deepEqual(throttle.check('10.0.0.99', 'admin'), { waitMs: 0 });
});

test('addresses are counted as IPv4, or by their IPv6 /64', () => {
  assert.equal(throttleAddress('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(throttleAddress('192.0.2.7'), '192.0.2.7');
  assert.equal(throttleAddress('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(throttleAddress('2001:0db8:0001:0002:ffff:0:0:9'), '2001:db8:1:2::/64');
  assert.equal(throttleAddress('::1'), '0:0:0:0::/64');
});
