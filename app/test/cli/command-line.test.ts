import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { allocatePorts, isListening, killChildren, runCli, Workspace, type CliResult } from './harness.js';

/** A secret value that must never be echoed back. */
const FILE_SECRET = '0123456789abcdef0123456789abcdef:c2VjcmV0LWNhbmFyeS1zZWNyZXQtY2FuYXJ5LXNlY3JldC1jYW5hcnk=';

const HELP_CASES: { args: string[]; mentions: string[] }[] = [
  { args: ['--help'], mentions: ['sensor-api', 'web-ui', 'migrate', 'version', 'rules', 'users', 'api-keys', 'start', '--db-url', '--data-dir'] },
  { args: ['rules', '--help'], mentions: ['export', 'apply', 'test'] },
  { args: ['api-keys', '--help'], mentions: ['create', 'list', 'revoke'] },
  { args: ['users', '--help'], mentions: ['create-admin'] },
  { args: ['migrate', '--help'], mentions: ['--status', '--resolve'] },
];

describe('the trapperkeeper command line', () => {
  const workspace = new Workspace();
  const results = new Map<string, CliResult>();
  let configRun: CliResult | undefined;
  let ports = { grpc: 0, sensorHttp: 0, web: 0 };

  before(async () => {
    ports = await allocatePorts();
    // The operator's ./trapperkeeper.toml with a misspelt key and a secret in it.
    writeFileSync(workspace.path('trapperkeeper.toml'), `hmac_secret = "${FILE_SECRET}"\n\n[sensor_api]\nmax_batch_sise = 10\n`);
    const runs: Promise<void>[] = [
      ...HELP_CASES.map(async ({ args }) => { results.set(args.join(' '), await runCli(workspace, args)); }),
      (async () => { results.set('version', await runCli(workspace, ['version'])); })(),
      (async () => { results.set('version --json', await runCli(workspace, ['version', '--json'])); })(),
      (async () => {
        configRun = await runCli(workspace, [
          'sensor-api', '--host', '127.0.0.1', '--port', '99999', '--http-port', String(ports.sensorHttp), '--data-dir', 'data',
        ], { env: { TK_LOG_LEVEL: 'debug' } });
      })(),
    ];
    await Promise.all(runs);
  });
  after(async () => {
    await killChildren();
    workspace.remove();
  });

  test('version prints the semver version, the commit and the build date', () => {
    const text = results.get('version')!;
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^trapperkeeper \d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)? \(commit \S+, built \S+\)\n$/);
    const json = results.get('version --json')!;
    assert.equal(json.code, 0, json.stderr);
    const info = JSON.parse(json.stdout) as Record<string, string>;
    assert.match(info.version ?? '', /^\d+\.\d+\.\d+/);
    assert.ok(info.commit && info.buildDate, 'commit and build date are present');
    assert.ok(text.stdout.includes(info.version!) && text.stdout.includes(info.commit!) && text.stdout.includes(info.buildDate!));
  });

  for (const { args, mentions } of HELP_CASES) {
    test(`trapperkeeper ${args.join(' ')} prints usage and exits 0`, () => {
      const result = results.get(args.join(' '))!;
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^Usage: trapperkeeper/);
      for (const word of mentions) assert.ok(result.stdout.includes(word), `help mentions ${word}:\n${result.stdout}`);
    });
  }

  test('a bad port flag, an unknown TOML key and a secret in the TOML file are all reported in one run, and nothing starts', async () => {
    const result = configRun!;
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /Invalid configuration \(3 problems\)/);
    assert.match(result.stderr, /sensor_api\.port \(flag --port\): 99999 is above the maximum/);
    assert.match(result.stderr, /sensor_api\.max_batch_sise \(file [^)]*trapperkeeper\.toml\): is not a known setting; did you mean "max_batch_size"/);
    assert.match(result.stderr, /hmac_secret \(file [^)]*trapperkeeper\.toml\): holds a secret/);
    assert.ok(!`${result.stdout}${result.stderr}`.includes(FILE_SECRET.split(':')[1]!), 'the secret is not echoed');
    assert.doesNotMatch(result.stdout, /listening|starting/);
    assert.equal(existsSync(workspace.path('data')), false, 'no data directory or database was created');
    assert.equal(await isListening(ports.sensorHttp), false, 'nothing listens on the HTTP port');
  });
});
