import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN, HttpClient, startWebHarness, type WebHarness } from './harness.js';

/**
 * Password guessing over real sockets. Other client addresses are other loopback addresses
 * (127.0.0.0/8 is all loopback on Linux): the server sees the connection's source address.
 */
const POLICY = { failuresPerAddressAccount: 3, failuresPerAddress: 6, failuresPerAccount: 50, backoffMaxMs: 4_000 };

function from(h: WebHarness, localAddress: string): HttpClient {
  return new HttpClient(h.baseUrl, {}, { localAddress });
}

function logLines(text: string): Record<string, unknown>[] {
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('login throttling', () => {
  let h: WebHarness;
  let log = '';
  before(async () => {
    const stream = new PassThrough();
    stream.setEncoding('utf8').on('data', (chunk: string) => { log += chunk; });
    h = await startWebHarness({ loginThrottle: POLICY, logTo: stream });
  });
  after(async () => h.close());

  test('guesses at one account from one address get 429 with Retry-After; the admin still logs in from another address, and the guesser after the wait', async () => {
    const attacker = from(h, '127.0.0.2');
    for (let i = 0; i < POLICY.failuresPerAddressAccount; i += 1) {
      assert.equal((await attacker.login(ADMIN.username, `guess number ${i}`)).status, 401, `guess ${i}`);
    }
    const refused = await attacker.login(ADMIN.username, 'another guess');
    assert.equal(refused.status, 429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= POLICY.backoffMaxMs / 1000, `Retry-After: ${retryAfter}`);
    assert.match(refused.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await refused.text(), /Too many failed logins/);

    // While throttled even the right password is not checked, so guessing on teaches nothing.
    const unchecked = await attacker.login();
    assert.equal(unchecked.status, 429);
    assert.equal(attacker.cookies.has('tk_session'), false);

    const admin = from(h, '127.0.0.3');
    const login = await admin.login();
    assert.equal(login.status, 303, 'the admin at another address is not locked out');
    assert.equal(login.headers.get('location'), '/rules');

    await sleep(retryAfter * 1000 + 100);
    const later = await attacker.login();
    assert.equal(later.status, 303, 'after the wait the address may try again');
  });

  test('many usernames from one address are throttled per address, whatever the username', async () => {
    const sprayer = from(h, '127.0.0.4');
    for (let i = 0; i < POLICY.failuresPerAddress; i += 1) {
      assert.equal((await sprayer.login(`user-${i}`, 'password123456')).status, 401);
    }
    assert.equal((await sprayer.login('yet-another-user', 'password123456')).status, 429);
    assert.equal((await sprayer.login()).status, 429);
    assert.equal((await from(h, '127.0.0.5').login()).status, 303);
  });

  test('a burst of concurrent guesses is not checked all at once before the first failure counts', async () => {
    const burst = from(h, '127.0.0.7');
    const token = await burst.csrfTokenFrom('/login');
    const statuses = await Promise.all(Array.from({ length: 30 }, (_, i) =>
      burst.post('/login', { _csrf: token, username: ADMIN.username, password: `burst guess ${i}` }).then((response) => response.status)));
    const checked = statuses.filter((status) => status === 401).length;
    assert.ok(checked >= 1 && checked <= POLICY.failuresPerAddressAccount, `${checked} of 30 concurrent guesses were checked`);
    assert.equal(statuses.filter((status) => status === 429).length, 30 - checked);
  });

  test('each refused login leaves an audit line with username and address, never the password', async () => {
    const client = from(h, '127.0.0.6');
    await client.login('audited-user', 'secret-guess-do-not-log');
    for (let i = 0; i < POLICY.failuresPerAddressAccount + 1; i += 1) await client.login('audited-user', 'secret-guess-do-not-log');
    await sleep(100);
    assert.doesNotMatch(log, /secret-guess-do-not-log/);
    const lines = logLines(log).filter((line) => line.username === 'audited-user');
    const failed = lines.filter((line) => line.event === 'login_failed');
    assert.equal(failed.length, POLICY.failuresPerAddressAccount);
    assert.equal(failed[0]?.address, '127.0.0.6');
    const throttled = lines.filter((line) => line.event === 'login_throttled');
    assert.equal(throttled.length, 1, 'throttled attempts from one address are summarised');
    assert.equal(throttled[0]?.address, '127.0.0.6');
    assert.equal(throttled[0]?.scope, 'address+account');
  });
});

describe('login timing', () => {
  let h: WebHarness;
  before(async () => {
    h = await startWebHarness();
  });
  after(async () => h.close());

  const median = (times: number[]) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;

  test('an unknown or impossible username costs about as much as a wrong password', async () => {
    const client = new HttpClient(h.baseUrl);
    const attempts: Record<string, () => Promise<Response>> = {
      'wrong password': () => client.login(ADMIN.username, 'not the password'),
      unknown: () => client.login('nobody-by-this-name', 'not the password'),
      overlong: () => client.login('x'.repeat(300), 'not the password'),
      empty: () => client.login('', 'not the password'),
    };
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(attempts).map((kind) => [kind, []]));
    // Interleaved, so a slow spell of a shared machine falls on every kind alike.
    for (let round = 0; round < 15; round += 1) {
      for (const [kind, attempt] of Object.entries(attempts)) {
        const started = performance.now();
        assert.equal((await attempt()).status, 401, kind);
        times[kind]!.push(performance.now() - started);
      }
    }
    const reference = median(times['wrong password']!);
    for (const kind of ['unknown', 'overlong', 'empty']) {
      const ratio = median(times[kind]!) / reference;
      assert.ok(ratio > 0.5 && ratio < 2, `${kind} username: ${median(times[kind]!).toFixed(1)} ms against ${reference.toFixed(1)} ms for a wrong password`);
    }
  });
});

describe('login throttling behind a proxy (trust_proxy on)', () => {
  let h: WebHarness;
  before(async () => {
    h = await startWebHarness({ trustProxy: true, loginThrottle: POLICY });
  });
  after(async () => h.close());

  test('the address is the one the proxy appended to X-Forwarded-For; entries the client wrote do not escape the count', async () => {
    for (let i = 0; i <= POLICY.failuresPerAddressAccount; i += 1) {
      // A client rotating the first entry; the proxy's own entry (the last) stays the same.
      const client = new HttpClient(h.baseUrl, { 'x-forwarded-for': `203.0.113.${i}, 198.51.100.7` });
      const status = (await client.login(ADMIN.username, 'wrong guess')).status;
      assert.equal(status, i < POLICY.failuresPerAddressAccount ? 401 : 429, `attempt ${i}`);
    }
    const otherClient = new HttpClient(h.baseUrl, { 'x-forwarded-for': '198.51.100.8' });
    assert.equal((await otherClient.login()).status, 303, 'another client behind the same proxy is not throttled');
  });
});
