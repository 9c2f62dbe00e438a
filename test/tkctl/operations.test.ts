/**
 * The tkctl commands that talk to a stack's Docker host alone (no Pulumi engine): status, backup,
 * snapshots, restore, admin, apikey and logs, against a real stack (PostgreSQL, Caddy, two
 * releases of the app image) stood up by the release fixture.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requireDocker, testEngine, uniqueName } from '../support/images.js';
import { createReleaseFixture, releaseId, type ReleaseFixture } from '../support/release-fixture.js';
import { runTkctlInProcess, type TkctlResult } from './harness.js';

describe('tkctl on a running stack (Docker, PostgreSQL, Caddy)', { timeout: 900_000 }, () => {
  let fixture: ReleaseFixture;
  let cwd: string;
  let v1: string;
  let v2: string;
  const tkctl = (args: string[], input?: string) => runTkctlInProcess([...args, '--stack', fixture.stack], cwd, input);
  const ok = (result: TkctlResult) => {
    assert.equal(result.code, 0, `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
    return result;
  };
  const json = <T>(result: TkctlResult): T => JSON.parse(ok(result).stdout) as T;
  const noSecrets = (result: TkctlResult) => {
    for (const value of [fixture.canary, fixture.secrets.TK_HMAC_SECRET!.split(':')[1]!]) {
      assert.ok(!result.stdout.includes(value) && !result.stderr.includes(value), 'no secret in the output');
    }
  };

  before(async () => {
    await requireDocker();
    cwd = mkdtempSync(join(tmpdir(), 'tk-tkctl-ops-'));
    fixture = await createReleaseFixture(uniqueName('tkctl'));
    const image1 = await fixture.releaseImage(releaseId('0.1.0', 1));
    const image2 = await fixture.releaseImage(releaseId('0.2.0', 2));
    v1 = (await fixture.release(fixture.specFor(image1))).liveRelease;
    v2 = (await fixture.release(fixture.specFor(image2))).liveRelease;
  });

  after(async () => {
    await fixture?.tearDown();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('status shows the live and previous release, every container\'s health and the lock, as text and JSON', async () => {
    const status = json<{
      live: { slot: string; releaseId: string };
      previous: { releaseId: string; running: boolean };
      lock: string;
      health: { role: string; state: string }[];
    }>(await tkctl(['status', '--json']));
    assert.equal(status.live.releaseId, v2);
    assert.equal(status.previous.releaseId, v1);
    assert.equal(status.lock, 'free');
    const roles = Object.fromEntries(status.health.map((h) => [h.role, h.state]));
    assert.equal(roles.postgres, 'running');
    assert.equal(roles.caddy, 'running');
    assert.equal(roles['web-ui (live)'], 'running');
    assert.equal(roles['sensor-api (live)'], 'running');

    const text = ok(await tkctl(['status']));
    assert.match(text.stdout, new RegExp(`live: +${v2.replaceAll('+', '\\+')} \\(${status.live.slot}\\)`));
    assert.match(text.stdout, new RegExp(`previous: +${v1.replaceAll('+', '\\+')}`));
    noSecrets(text);
  });

  it('status agrees with the release CLI\'s status (one code path)', async () => {
    const { execFileSync } = await import('node:child_process');
    const { REPO_ROOT } = await import('../support/images.js');
    const released = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', 'providers/release-cli.ts', 'status', '--stack', fixture.stack], { cwd: REPO_ROOT, encoding: 'utf8' })) as Record<string, unknown>;
    const ours = json<Record<string, unknown>>(await tkctl(['status', '--json']));
    for (const key of ['live', 'slots', 'latestSnapshot', 'lock']) assert.deepEqual(ours[key], released[key], key);
  });

  it('apikey create prints the key once, list shows it without the key, revoke revokes it', async () => {
    const created = json<{ name: string; key: string }>(await tkctl(['apikey', 'create', '--name', 'sensor-one', '--json']));
    assert.match(created.key, /^tk-v1-[0-9a-f]{32}-[0-9a-f]{64}$/);
    const listed = await tkctl(['apikey', 'list', '--json']);
    assert.ok(!listed.stdout.includes(created.key), 'list never shows a key');
    const keys = json<{ id: string; name: string; revokedAt: string | null }[]>(listed);
    const one = keys.find((key) => key.name === 'sensor-one');
    assert.ok(one, listed.stdout);
    assert.equal(one.revokedAt, null);
    ok(await tkctl(['apikey', 'revoke', one.id]));
    const after = json<{ id: string; revokedAt: string | null }[]>(await tkctl(['apikey', 'list', '--json']));
    assert.notEqual(after.find((key) => key.id === one.id)?.revokedAt, null);

    const unknown = await tkctl(['apikey', 'revoke', '00000000-0000-0000-0000-000000000000']);
    assert.equal(unknown.code, 1);
    const again = unknown;
    assert.match(again.stderr, /No active API key with id/);
    assert.match(again.stderr, /fix: tkctl apikey list --stack /);
  });

  it('admin create reads the password from stdin, never prints it, and the administrator is in the database', async () => {
    const password = `pw-${fixture.canary}-admin`;
    const created = await tkctl(['admin', 'create', '--username', 'ops-admin'], `${password}\n`);
    ok(created);
    assert.ok(!created.stdout.includes(password) && !created.stderr.includes(password));
    const inDb = await testEngine.run(['exec', `tk-${fixture.stack}-postgres`, 'psql', '-U', 'trapperkeeper', '-d', 'trapperkeeper', '-Atc', "SELECT username, is_admin FROM users WHERE username = 'ops-admin'"]);
    assert.match(inDb, /^ops-admin\|1/m);
    const noPassword = await tkctl(['admin', 'create', '--username', 'other']);
    assert.equal(noPassword.code, 1);
    assert.match(noPassword.stderr, /password/i);
  });

  it('backup takes a verified snapshot; snapshots list shows it with its size; prune keeps the newest', async () => {
    const backup = json<{ name: string; size: number; sha256: string; container: string; path: string }>(await tkctl(['backup', '--json']));
    assert.match(backup.sha256, /^[0-9a-f]{64}$/);
    const onDisk = await testEngine.run(['exec', backup.container, 'sha256sum', backup.path]);
    assert.equal(onDisk.split(' ')[0], backup.sha256, 'the checksum is the file\'s');
    const list = json<{ snapshots: { name: string; size: number; verified: boolean }[] }>(await tkctl(['snapshots', 'list', '--json']));
    assert.deepEqual(list.snapshots[0], { ...list.snapshots[0], name: backup.name, size: backup.size, verified: true });
    const pruned = json<{ deleted: string[]; keep: { name: string }[] }>(await tkctl(['snapshots', 'prune', '--json']));
    assert.deepEqual(pruned.deleted, [], 'nothing is older than the retention');
    assert.ok(pruned.keep.some((entry) => entry.name === backup.name));
    const status = json<{ latestSnapshot: string; snapshots: { name: string }[] }>(await tkctl(['status', '--json']));
    assert.equal(status.latestSnapshot, backup.name);
    const events = readFileSync(join(cwd, '.trapperkeeper/events', `${fixture.stack}.jsonl`), 'utf8');
    assert.match(events, /"event":"snapshot.taken"/);
  });

  it('restore asks for the stack name, takes a safety snapshot, brings the data back and compares row counts', async () => {
    const keys = () => testEngine.run(['exec', `tk-${fixture.stack}-postgres`, 'psql', '-U', 'trapperkeeper', '-d', 'trapperkeeper', '-Atc', 'SELECT name FROM api_keys ORDER BY name']);
    const backup = json<{ name: string }>(await tkctl(['backup', '--json']));
    ok(await tkctl(['apikey', 'create', '--name', 'after-backup']));
    assert.match(await keys(), /after-backup/);

    const refused = await tkctl(['restore', backup.name], 'not-the-stack\n');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Not confirmed[^]*nothing was changed/);
    assert.match(await keys(), /after-backup/, 'nothing changed');

    const restored = json<{ safetySnapshot: string; previousDatabase: string; restarted: string[]; rowCounts: { before: Record<string, number>; after: Record<string, number> } }>(
      await tkctl(['restore', backup.name, '--json'], `${fixture.stack}\n`),
    );
    assert.doesNotMatch(await keys(), /after-backup/, 'the key created after the backup is gone');
    assert.equal(restored.rowCounts.before['public.api_keys'], restored.rowCounts.after['public.api_keys']! + 1);
    assert.ok(restored.restarted.length >= 2, 'the live slot was stopped and started again');
    const status = json<{ health: { role: string; state: string }[] }>(await tkctl(['status', '--json']));
    assert.ok(status.health.filter((h) => h.role.endsWith('(live)')).every((h) => h.state === 'running'), JSON.stringify(status.health));
    // The app serves on the restored database again.
    const listed = json<{ name: string }[]>(await tkctl(['apikey', 'list', '--json']));
    assert.ok(listed.some((key) => key.name === 'sensor-one'));

    // The safety snapshot undoes it.
    json(await tkctl(['restore', restored.safetySnapshot, '--confirm', fixture.stack, '--json']));
    assert.match(await keys(), /after-backup/);
  });

  it('logs shows a service\'s lines, and names the services when given a wrong one', async () => {
    const logs = ok(await tkctl(['logs', 'web-ui', '--tail', '20']));
    assert.ok(logs.stdout.length + logs.stderr.length > 0, 'some log lines');
    const both = ok(await tkctl(['logs', '--tail', '5']));
    assert.match(both.stdout + both.stderr, /^(web-ui|sensor-api) \| /m);
    const wrong = await tkctl(['logs', 'nginx']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /unknown service "nginx"\n {2}fix: name one of web-ui, sensor-api, postgres, caddy/);
  });

  it('says how to release first on a stack that has none', async () => {
    const result = await runTkctlInProcess(['backup', '--stack', 'tkctl-no-such-stack'], cwd);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Stack tkctl-no-such-stack has no release on its Docker host[^]*fix: tkctl up --stack tkctl-no-such-stack/);
  });
});
