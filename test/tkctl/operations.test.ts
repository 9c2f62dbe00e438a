/**
 * The tkctl commands that talk to a stack's Docker host alone (no Pulumi engine): status, backup,
 * snapshots, restore, admin, apikey and logs, against a real stack (PostgreSQL, Caddy, two
 * releases of the app image) stood up by the release fixture.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { requireDocker, testEngine, uniqueName } from '../support/images.js';
import { takeSnapshot } from '../../providers/docker/snapshot/index.js';
import type { ReleaseImage } from '../../providers/docker/spec.js';
import { createReleaseFixture, releaseId, type ReleaseFixture } from '../support/release-fixture.js';
import { runTkctlInProcess, TKCTL_BIN, type TkctlResult } from './harness.js';

describe('tkctl on a running stack (Docker, PostgreSQL, Caddy)', { timeout: 900_000 }, () => {
  let fixture: ReleaseFixture;
  let cwd: string;
  let v1: string;
  let v2: string;
  let image2: ReleaseImage;
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
    image2 = await fixture.releaseImage(releaseId('0.2.0', 2));
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
    const released = JSON.parse(execFileSync(process.execPath, ['launcher/release-cli.mjs', 'status', '--stack', fixture.stack], { cwd: REPO_ROOT, encoding: 'utf8' })) as Record<string, unknown>;
    const ours = json<Record<string, unknown>>(await tkctl(['status', '--json']));
    for (const key of ['live', 'slots', 'latestSnapshot', 'lock']) assert.deepEqual(ours[key], released[key], key);
  });

  it('apikey create prints the key once, list shows it without the key, revoke revokes it', async () => {
    const created = json<{ name: string; key: string }>(await tkctl(['apikey', 'create', '--name', 'sensor-one', '--json']));
    assert.match(created.key, /^tk-v1-[0-9a-f]{32}-[0-9a-f]{64}$/);
    const listed = await tkctl(['apikey', 'list', '--json']);
    assert.ok(!listed.stdout.includes(created.key), 'list never shows a key');
    const keys = json<{ id: string; name: string; secretId: string; revokedAt: string | null }[]>(listed);
    const one = keys.find((key) => key.name === 'sensor-one');
    assert.ok(one, listed.stdout);
    assert.equal(one.revokedAt, null);
    assert.equal(one.secretId, fixture.secrets.TK_HMAC_SECRET!.split(':')[0], 'the id of the HMAC secret it was issued under, from the app\'s own JSON');
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

  it('snapshots prune deletes the verified snapshots older than the retention and keeps the newest verified one', async () => {
    const spec = fixture.specFor(image2);
    const days = (n: number) => new Date(Date.now() - n * 86_400_000);
    // Real dumps of this database, taken as a release 10, 9 and 2 days ago would have named them.
    const old10 = await takeSnapshot(testEngine, spec, { commit: 'aaaa0010', now: days(10) });
    const old9 = await takeSnapshot(testEngine, spec, { commit: 'aaaa0009', now: days(9) });
    const recent = await takeSnapshot(testEngine, spec, { commit: 'aaaa0002', now: days(2) });
    const newest = json<{ name: string }>(await tkctl(['backup', '--json']));
    const listNames = async () => json<{ snapshots: { name: string }[] }>(await tkctl(['snapshots', 'list', '--json'])).snapshots.map((s) => s.name);
    const expected = [old10.name, `${old10.name}.sha256`, old9.name, `${old9.name}.sha256`].sort();

    const plan = json<{ dryRun: boolean; delete: string[] }>(await tkctl(['snapshots', 'prune', '--dry-run', '--json']));
    assert.deepEqual(plan.delete.filter((name) => name.includes('aaaa00')), expected);
    assert.ok((await listNames()).includes(old10.name), '--dry-run deleted nothing');

    const pruned = json<{ deleted: string[]; keep: { name: string; reason: string }[] }>(await tkctl(['snapshots', 'prune', '--json']));
    assert.deepEqual(pruned.deleted.filter((name) => name.includes('aaaa00')), expected);
    assert.deepEqual(pruned.keep.find((entry) => entry.name === newest.name)?.reason, 'newest verified snapshot');
    assert.deepEqual(pruned.keep.find((entry) => entry.name === recent.name)?.reason, 'within 7 days');
    const after = await listNames();
    assert.ok(!after.includes(old10.name) && !after.includes(old9.name), after.join(', '));
    assert.ok(after.includes(newest.name) && after.includes(recent.name));
    const files = await testEngine.run(['exec', spec.database.container, 'ls', old10.path.replace(/\/[^/]+$/, '')]);
    assert.doesNotMatch(files, /aaaa0010|aaaa0009/, 'the dumps and their checksum files are gone from the volume');
    assert.match(files, /aaaa0002/);

    const text = ok(await tkctl(['snapshots', 'prune']));
    assert.match(text.stdout, /^deleted 0 \(older than 7 days\): nothing$/m, 'a second prune finds nothing more');
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

  it('restore fails, exit 1, when the row counts after differ from the snapshot\'s, and says how to undo it', async () => {
    const postgres = `tk-${fixture.stack}-postgres`;
    const psql = (db: string, sql: string) => testEngine.run(['exec', postgres, 'psql', '-U', 'trapperkeeper', '-d', db, '-Atc', sql]);
    const backup = json<{ name: string }>(await tkctl(['backup', '--json']));
    const renamed = "SELECT count(*) FROM pg_database WHERE starts_with(datname, 'trapperkeeper_before_restore_')";
    const already = Number((await psql('postgres', renamed)).trim());
    // A client tkctl does not stop (a script, a second app started by hand) writes to the live
    // database name right after the restore swapped the restored database in, before the counts.
    const insert = "INSERT INTO api_keys (id, tenant_id, name, key_hash, secret_id, created_at, modified_at) " +
      "SELECT gen_random_uuid()::text, tenant_id, 'written-after-the-swap', encode(sha256(random()::text::bytea), 'hex'), secret_id, now(), now() FROM api_keys LIMIT 1";
    const writer = [
      `i=0; until [ "$(psql -U trapperkeeper -d postgres -Atc "${renamed}")" -gt ${already} ]; do`,
      '  i=$((i+1)); [ $i -gt 3000 ] && exit 1; sleep 0.02;',
      'done;',
      `psql -U trapperkeeper -d trapperkeeper -Atc "${insert}"`,
    ].join(' ');
    await testEngine.run(['exec', '-d', postgres, 'sh', '-c', writer]);

    const failed = await tkctl(['restore', backup.name, '--confirm', fixture.stack, '--json']);
    assert.equal(failed.code, 1, `${failed.stdout}\n${failed.stderr}`);
    assert.equal(failed.stdout, '', 'no outcome printed as if it had worked');
    assert.match(failed.stderr, /error: After the restore, 1 table\(s\) differ from the snapshot: public\.api_keys has (\d+) rows, the snapshot \d+/);
    assert.match(failed.stderr, /something wrote to the database after the swap/);
    const counts = /public\.api_keys has (\d+) rows, the snapshot (\d+)/.exec(failed.stderr)!;
    assert.equal(Number(counts[1]), Number(counts[2]) + 1);
    assert.match(await psql('trapperkeeper', "SELECT name FROM api_keys WHERE name = 'written-after-the-swap'"), /written-after-the-swap/, 'the write really happened');

    // The printed fix undoes the restore: the database as it was before it, from the safety snapshot.
    const fix = /fix: (tkctl restore (\S+) --stack \S+)/.exec(failed.stderr);
    assert.ok(fix, failed.stderr);
    const undone = json<{ restored: string }>(await tkctl(['restore', fix[2]!, '--confirm', fixture.stack, '--json']));
    assert.equal(undone.restored, fix[2]);
    assert.doesNotMatch(await psql('trapperkeeper', "SELECT name FROM api_keys WHERE name = 'written-after-the-swap'"), /written/);
  });

  it('logs --follow streams a container\'s new lines as they come and stops cleanly on Ctrl-C', async () => {
    // As a terminal runs it: the tkctl bin in a process group of its own, which Ctrl-C signals whole.
    const child = spawn(process.execPath, [TKCTL_BIN, 'logs', 'postgres', '--follow', '--tail', '1', '--stack', fixture.stack], { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    const waitFor = async (pattern: RegExp, what: string) => {
      for (let i = 0; i < 200 && !pattern.test(output); i++) await sleep(100);
      assert.match(output, pattern, what);
    };
    try {
      // docker logs is attached once the last line already there (--tail 1) is printed.
      await waitFor(/\n/, 'the last line of the log, before following');
      const marker = `tkctl_follow_${process.pid}_${Date.now()}`;
      assert.doesNotMatch(output, new RegExp(marker));
      // PostgreSQL logs a failed statement: a new line in the container's log, written now.
      await testEngine.exec(['exec', `tk-${fixture.stack}-postgres`, 'psql', '-U', 'trapperkeeper', '-d', 'trapperkeeper', '-c', `SELECT ${marker}`]);
      await waitFor(new RegExp(`column "${marker}" does not exist`), 'the new line appears while following');
      process.kill(-child.pid!, 'SIGINT');
      const result = await Promise.race([exited, sleep(10_000).then(() => undefined)]);
      assert.ok(result, 'tkctl logs --follow stopped within 10 s of Ctrl-C');
      assert.deepEqual(result, { code: 0, signal: null }, output);
      assert.doesNotMatch(output, /^error:|unexpected error/m);
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
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
