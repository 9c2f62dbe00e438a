/**
 * `tkctl node add` and `tkctl node list` through the real Pulumi CLI (file:// backend,
 * passphrase secrets): a node is a stack of its own made from the prod template with its own
 * docker.host and generated secrets, which the program's config loader accepts, which
 * `pulumi stack select` and `tkctl --stack` both reach; bad names and hosts are refused with the
 * fix, and so is a name that is taken.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { parseStackConfig } from '../../providers/config.js';
import { REPO_ROOT } from '../support/images.js';
import { createTkctlProject, findPulumiCli, NO_PULUMI_CLI, type TkctlProject } from './harness.js';

const cli = findPulumiCli();
if (!cli && process.env.CI) throw new Error(`CI must run the tkctl CLI tests, but ${NO_PULUMI_CLI}`);

const ALICE_HOST = 'ssh://deploy@alice.example.com:2222';
const BOB_HOST = 'ssh://ops@10.0.0.7';

describe('tkctl node add and node list through the real Pulumi CLI', { skip: cli ? undefined : NO_PULUMI_CLI, timeout: 300_000 }, () => {
  let project: TkctlProject;
  const stacks = () => (JSON.parse(project.pulumi(['stack', 'ls', '--json']).stdout) as { name: string }[]).map((s) => s.name).sort();
  const config = (stack: string) => {
    const result = project.pulumi(['config', '--json', '--show-secrets', '--stack', stack]);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as Record<string, { value: string; secret: boolean }>;
  };

  before(() => {
    project = createTkctlProject(cli!, ['Pulumi.prod.yaml', 'Pulumi.dev.yaml']);
  });
  after(() => project?.remove());

  it('add makes a production stack from the prod template with its own host and generated secrets, which the program accepts', async () => {
    const run = await project.tkctl(['node', 'add', 'node-alice', '--host', ALICE_HOST, '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), {
      stack: 'node-alice',
      host: ALICE_HOST,
      file: 'Pulumi.node-alice.yaml',
      template: 'Pulumi.prod.yaml',
      secrets: { postgresPassword: 'generated', hmacSecret: 'generated', grafanaAdminPassword: 'generated' },
    });
    assert.deepEqual(stacks(), ['node-alice']);
    assert.equal(project.pulumi(['stack', 'tag', 'get', 'trapperkeeper:node', '--stack', 'node-alice']).stdout.trim(), 'true');

    const entries = config('node-alice');
    const values = Object.fromEntries(Object.entries(entries).map(([key, entry]) => [key, entry.value]));
    const secretKeys = new Set(Object.entries(entries).filter(([, entry]) => entry.secret).map(([key]) => key));
    assert.deepEqual([...secretKeys].sort(), ['trapperkeeper:grafanaAdminPassword', 'trapperkeeper:hmacSecret', 'trapperkeeper:postgresPassword']);
    const parsed = parseStackConfig({ stack: 'node-alice', config: values, secretConfigKeys: secretKeys, processEnv: {}, envFile: { path: '.env.node-alice', values: {} } });
    assert.equal(parsed.provider, 'docker');
    if (parsed.provider !== 'docker') return;
    assert.equal(parsed.docker.host, ALICE_HOST);
    assert.equal(parsed.ephemeral, false);
    assert.equal(String(values['trapperkeeper:production']), 'true');
    for (const secret of [values['trapperkeeper:postgresPassword']!, values['trapperkeeper:hmacSecret']!]) {
      assert.ok(secret.length >= 24);
      assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret), 'no secret value is printed');
    }

    // The prod template's settings, and a header saying what the file is; the template itself is untouched.
    const prod = (parseYaml(readFileSync(join(REPO_ROOT, 'Pulumi.prod.yaml'), 'utf8')) as { config: Record<string, unknown> }).config;
    const text = readFileSync(join(project.dir, 'Pulumi.node-alice.yaml'), 'utf8');
    const node = (parseYaml(text) as { config: Record<string, unknown> }).config;
    for (const key of ['trapperkeeper:release', 'trapperkeeper:snapshots', 'trapperkeeper:app']) assert.deepEqual(node[key], prod[key], key);
    // Pulumi writes top-level scalars back as strings when it rewrites the file (config set).
    for (const key of ['trapperkeeper:production', 'trapperkeeper:ephemeral']) assert.equal(String(node[key]), String(prod[key]), key);
    assert.match(text, /^# Stack "node-alice": a maintainer's node, made by `tkctl node add node-alice --host ssh:\/\/deploy@alice\.example\.com:2222` from Pulumi\.prod\.yaml\./);
    assert.match(text, /# Serves real users: `tkctl destroy` refuses/, 'the template\'s comments on its settings stay');
    assert.doesNotMatch(text, /Stack "prod"|Placeholder/, 'but not the ones about the template itself');
    assert.deepEqual(node['trapperkeeper:docker'], { ...(prod['trapperkeeper:docker'] as object), host: ALICE_HOST });
    assert.equal(readFileSync(join(project.dir, 'Pulumi.prod.yaml'), 'utf8'), readFileSync(join(REPO_ROOT, 'Pulumi.prod.yaml'), 'utf8'));
    assert.doesNotMatch(text, /tk-prod\.example\.com/);

    // HTTPS as the template's comment says: uncomment its two lines in the node's file (after Pulumi rewrote it).
    const https = text.replace(/^(\s*)# (domain|acmeEmail): /gm, '$1$2: ');
    assert.notEqual(https, text, 'the commented domain and acmeEmail lines are in the node file');
    const docker = (parseYaml(https) as { config: Record<string, { domain?: string; acmeEmail?: string }> }).config['trapperkeeper:docker'];
    assert.deepEqual([docker?.domain, docker?.acmeEmail], ['tk.your-company.com', 'ops@your-company.com'], 'they land in docker, not in docker.ports');
  });

  it('pulumi stack select and tkctl --stack both reach the node: tkctl reads its config and keeps its secrets', async () => {
    const before = config('node-alice');
    assert.equal(project.pulumi(['stack', 'init', 'dev']).code, 0);
    assert.equal(project.pulumi(['stack', 'select', 'node-alice']).code, 0);
    const selected = await project.tkctl(['init', '--json']);
    assert.equal(selected.code, 0, selected.stderr);
    assert.deepEqual(JSON.parse(selected.stdout), { stack: 'node-alice', created: false, secrets: { postgresPassword: 'kept', hmacSecret: 'kept', grafanaAdminPassword: 'kept' } });
    assert.deepEqual(config('node-alice'), before, 'init changed nothing');

    // destroy reads the node's config (production: true, from the prod template) and refuses.
    for (const args of [['destroy'], ['destroy', '--stack', 'node-alice']]) {
      const refused = await project.tkctl(args);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, /Refusing to destroy stack node-alice: it is a production stack \(its config sets production: true \(Pulumi\.node-alice\.yaml\)\)/);
    }
    assert.ok(stacks().includes('node-alice'));
  });

  it('refuses a name that is taken (a stack, or a stack file of its own), leaving both as they were', async () => {
    const file = join(project.dir, 'Pulumi.node-alice.yaml');
    const text = readFileSync(file, 'utf8');
    const again = await project.tkctl(['node', 'add', 'node-alice', '--host', BOB_HOST]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /Stack node-alice already exists; node add makes new stacks only\n {2}fix: choose another name \(tkctl node list shows the nodes\), or change its host: pulumi config set --path docker\.host ssh:\/\/ops@10\.0\.0\.7 -s node-alice/);
    assert.equal(readFileSync(file, 'utf8'), text);
    const dev = await project.tkctl(['node', 'add', 'dev', '--host', BOB_HOST]);
    assert.equal(dev.code, 1);
    assert.match(dev.stderr, /Stack dev already exists/);

    // A committed stack file of a stack this backend does not have (another maintainer's).
    writeFileSync(join(project.dir, 'Pulumi.node-carol.yaml'), 'config:\n  trapperkeeper:provider: docker\n');
    const carol = await project.tkctl(['node', 'add', 'node-carol', '--host', BOB_HOST]);
    assert.equal(carol.code, 1);
    assert.match(carol.stderr, /Pulumi\.node-carol\.yaml already exists, though this backend has no stack node-carol; node add will not overwrite it/);
    assert.equal(readFileSync(join(project.dir, 'Pulumi.node-carol.yaml'), 'utf8'), 'config:\n  trapperkeeper:provider: docker\n');
    assert.ok(!stacks().includes('node-carol'));
    rmSync(join(project.dir, 'Pulumi.node-carol.yaml'));
  });

  it('refuses a host that is not ssh://user@host[:port], and a name that cannot be a node stack, creating nothing', async () => {
    const before = stacks();
    for (const [host, reason] of [
      ['alice.example.com', /is not an ssh:\/\/ URL/],
      ['tcp://10.0.0.7:2376', /is not an ssh:\/\/ URL/],
      ['ssh://alice.example.com', /names no user/],
      ['ssh://deploy@', /is not valid \(not a URL\)/],
      ['ssh://deploy@:22', /is not valid \(not a URL\)/],
      ['ssh://deploy@alice.example.com:99999', /is not valid \(not a URL\)/],
      ['ssh://deploy@alice.example.com/var/run', /is not valid \(no path after the host\)/],
      ['ssh://deploy:hunter2@alice.example.com', /is not valid \(no password: ssh uses your keys or agent\)/],
    ] as const) {
      const refused = await project.tkctl(['node', 'add', 'node-dave', '--host', host]);
      assert.equal(refused.code, 1, host);
      assert.match(refused.stderr, new RegExp(`error: tkctl node add: --host "${host.replace(/[.?*+^$()|[\]\\/]/g, '\\$&')}" `), host);
      assert.match(refused.stderr, reason, host);
      assert.match(refused.stderr, /it must be ssh:\/\/user@host\[:port\]\n {2}fix: tkctl node add node-dave --host ssh:\/\/deploy@alice\.example\.com/, host);
    }
    const noHost = await project.tkctl(['node', 'add', 'node-dave']);
    assert.match(noHost.stderr, /--host is required[^]*fix: tkctl node add node-dave --host ssh:\/\//);
    for (const [name, reason] of [['Node_Dave', /must be lowercase letters and digits/], ['pr-12', /is a pull request stack's name/]] as const) {
      const refused = await project.tkctl(['node', 'add', name, '--host', BOB_HOST]);
      assert.equal(refused.code, 1, name);
      assert.match(refused.stderr, reason, name);
    }
    assert.deepEqual(stacks(), before, 'no stack was created');
    assert.ok(!existsSync(join(project.dir, 'Pulumi.node-dave.yaml')), 'no stack file was written');
  });

  it('list shows each node stack with its host and last tkctl run, as text and JSON, and no other stack', async () => {
    const bob = await project.tkctl(['node', 'add', 'node-bob', '--host', BOB_HOST]);
    assert.equal(bob.code, 0, bob.stderr);
    assert.match(bob.stdout, /node stack node-bob created: docker\.host ssh:\/\/ops@10\.0\.0\.7/);
    assert.match(bob.stdout, /next: pulumi stack select node-bob && tkctl up {3}\(or tkctl up --stack node-bob\)/);
    // A run is recorded even when it fails (this scratch project has no program to run).
    const up = await project.tkctl(['up', '--stack', 'node-bob', '--ignore-ci', 'node list test']);
    assert.equal(up.code, 1);

    const listed = await project.tkctl(['node', 'list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const rows = JSON.parse(listed.stdout) as Array<{ stack: string; host: string | null; production: boolean; stackFile: boolean; lastRun: { command: string; result: string } | null }>;
    assert.deepEqual(rows.map((row) => [row.stack, row.host, row.production, row.stackFile]), [
      ['node-alice', ALICE_HOST, true, true],
      ['node-bob', BOB_HOST, true, true],
    ]);
    assert.equal(rows[0]!.lastRun, null);
    assert.deepEqual([rows[1]!.lastRun?.command, rows[1]!.lastRun?.result], ['up', 'failed']);

    const text = await project.tkctl(['node', 'list']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^STACK +HOST +LAST TKCTL RUN\n/);
    assert.match(text.stdout, /^node-alice +ssh:\/\/deploy@alice\.example\.com:2222 +-$/m);
    assert.match(text.stdout, /^node-bob +ssh:\/\/ops@10\.0\.0\.7 +up failed \d{4}-/m);
    assert.doesNotMatch(text.stdout, /^dev /m);

    // Another maintainer's node: the stack is in the backend, its file not in this checkout yet.
    rmSync(join(project.dir, 'Pulumi.node-bob.yaml'));
    const elsewhere = JSON.parse((await project.tkctl(['node', 'list', '--json'])).stdout) as Array<{ stack: string; host: string | null; stackFile: boolean }>;
    assert.deepEqual(elsewhere.find((row) => row.stack === 'node-bob'), { ...elsewhere.find((row) => row.stack === 'node-bob'), host: null, stackFile: false });
    assert.match((await project.tkctl(['node', 'list'])).stdout, /^node-bob +no Pulumi\.node-bob\.yaml here/m);
  });

  it('answers --help, and says what it takes when misused', async () => {
    const help = await project.tkctl(['node', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: tkctl node add <name> --host ssh:\/\/user@host\[:port\]/);
    const stackOption = await project.tkctl(['node', 'add', '--stack', 'node-erin', '--host', BOB_HOST]);
    assert.equal(stackOption.code, 1);
    assert.match(stackOption.stderr, /tkctl node takes the stack name as its argument, not --stack\n {2}fix: tkctl node add node-erin --host ssh:\/\/ops@10\.0\.0\.7/);
    const unknown = await project.tkctl(['node', 'remove', 'node-bob']);
    assert.match(unknown.stderr, /tkctl node: unknown action "remove"/);
  });
});
