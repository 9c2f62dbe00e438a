import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { parse as parseYaml } from 'yaml';
import { CONFIG_EXAMPLES, ConfigError, decodeConfigValues, formatConfigProblem, parseStackConfig, type StackConfigInput } from './config.js';
import { CANARY, CANARY_ENV, pulumiConfig } from './docker/testing.js';
import { NOTIFICATIONS_CONFIG_EXAMPLES } from './notifications-config.js';
import { awsConfig } from './aws/testing.js';
import { DEFAULT_MONITORING_SECTION, MONITORING_CONFIG_EXAMPLES } from '../components/monitoring/settings.js';

const NO_ENV_FILE = { path: '.env.dev', values: {} };

function input(values: Record<string, unknown>, overrides: Partial<StackConfigInput> = {}): StackConfigInput {
  return { stack: 'dev', config: pulumiConfig(values), processEnv: CANARY_ENV, envFile: NO_ENV_FILE, secretConfigKeys: new Set(), ...overrides };
}

function problemsOf(parse: () => unknown): string[] {
  try {
    parse();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.problems.map(formatConfigProblem);
  }
  assert.fail('the config was accepted');
}

/** The real stack files, as the Pulumi CLI hands them to the program. */
function stackFile(stack: string): Record<string, string> {
  const text = readFileSync(fileURLToPath(new URL(`../Pulumi.${stack}.yaml`, import.meta.url)), 'utf8');
  const { config } = parseYaml(text) as { config: Record<string, unknown> };
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]));
}

describe('stack config', () => {
  it('fills every default from a config that names only the provider', () => {
    const config = parseStackConfig(input({ provider: 'docker' }));
    const { secrets, ...settings } = config;
    assert.deepEqual(settings, {
      stack: 'dev',
      provider: 'docker',
      app: { logLevel: 'info' },
      release: { gate: { successes: 3, intervalMs: 500, timeoutMs: 60000 }, drainTimeoutMs: 15000, standby: 'running', keepReleases: 5, lockWaitMs: 0, allowDirty: false },
      snapshots: { retentionDays: 7, lockWaitTimeoutMs: 30000 },
      database: { name: 'trapperkeeper', user: 'trapperkeeper' },
      ephemeral: false,
      production: false,
      notifications: { sinks: [], env: undefined },
      monitoring: DEFAULT_MONITORING_SECTION,
      docker: {
        bindAddress: '127.0.0.1',
        ports: { http: 8080, https: 443, grpc: 50051 },
        images: { postgres: 'postgres:16', caddy: 'caddy:2', appBuildBase: 'node:20-bookworm', appRuntimeBase: 'node:20-bookworm-slim' },
      },
    });
    assert.deepEqual(Object.keys(secrets).sort(), ['hmacSecret', 'postgresPassword']);
  });

  it('accepts Pulumi.dev.yaml: the local engine, loopback ports, an ephemeral stack', () => {
    const config = parseStackConfig({ ...input({}), config: stackFile('dev') });
    assert.ok(config.provider === 'docker');
    assert.equal(config.docker.host, undefined);
    assert.equal(config.docker.bindAddress, '127.0.0.1');
    assert.equal(config.ephemeral, true);
  });

  it('accepts Pulumi.prod.yaml: a remote engine over ssh, public ports on every interface, data kept', () => {
    const config = parseStackConfig({ ...input({}), stack: 'prod', config: stackFile('prod') });
    assert.ok(config.provider === 'docker');
    assert.match(config.docker.host ?? '', /^ssh:\/\/deploy@/);
    assert.equal(config.docker.bindAddress, '0.0.0.0');
    assert.equal(config.docker.ports.http, 80);
    assert.equal(config.ephemeral, false);
    assert.equal(config.production, true, 'tkctl destroy refuses it without --force');
    assert.equal(config.release.allowDirty, false);
  });

  it('decodes top-level scalars and nested maps, and keeps secrets as strings whatever they look like', () => {
    const decoded = decodeConfigValues({
      'trapperkeeper:ephemeral': 'true',
      'trapperkeeper:docker': '{"ports":{"http":80}}',
      'trapperkeeper:postgresPassword': '123456789012345',
      'other:key': 'ignored',
    });
    assert.deepEqual(decoded, { values: { ephemeral: true, docker: { ports: { http: 80 } }, postgresPassword: '123456789012345' }, problems: [] });
  });

  it('reports every problem of a config at once, each with its key path and fix', () => {
    const problems = problemsOf(() =>
      parseStackConfig(
        input(
          {
            provider: 'docker',
            docker: { host: 'http://build-box:2375', ports: { http: 0, grcp: 50052 }, images: { caddy: 'Caddy 2' } },
            app: { version: 'v1.2', logLevel: 'loud', publicUrl: 'ftp://tk.example.com' },
            release: { gate: { successes: 'three' }, keepReleases: 1, standby: 'paused' },
            database: { name: 'trapper-keeper' },
            ephemeral: 'sometimes',
            colour: 'blue',
          },
          { processEnv: {} },
        ),
      ),
    );
    assert.deepEqual(problems.sort(), [
      "trapperkeeper:app.logLevel: must be one of trace, debug, info, warn, error, fatal; pulumi config set --path 'app.logLevel' info",
      "trapperkeeper:app.publicUrl: must be an http:// or https:// URL without credentials, e.g. https://tk.example.com; pulumi config set --path 'app.publicUrl' https://tk.example.com",
      "trapperkeeper:app.version: must be a semantic version like 1.4.0 or 1.4.0-rc.1 (no +build metadata); pulumi config set --path 'app.version' 1.4.0",
      'trapperkeeper:colour: is not a known key; pulumi config rm colour',
      "trapperkeeper:database.name: must be a PostgreSQL identifier: lowercase letters, digits and _, starting with a letter or _, at most 63 characters; pulumi config set --path 'database.name' trapperkeeper",
      "trapperkeeper:docker.host: must be unix:///path/to/docker.sock, tcp://host:port or ssh://user@host (scheme http:// is not supported); pulumi config set --path 'docker.host' ssh://deploy@tk.example.com",
      "trapperkeeper:docker.images.caddy: must be an image reference like postgres:16 or registry.example.com/team/postgres:16; pulumi config set --path 'docker.images.caddy' caddy:2",
      "trapperkeeper:docker.ports.grcp: is not a known key (did you mean 'grpc'?); pulumi config rm --path 'docker.ports.grcp'",
      "trapperkeeper:docker.ports.http: must be 1-65535; pulumi config set --path 'docker.ports.http' 8080",
      'trapperkeeper:ephemeral: must be a boolean, not a string; pulumi config set ephemeral false',
      'trapperkeeper:hmacSecret: is not set (checked the stack config, $TK_HMAC_SECRET and .env.dev); pulumi config set --secret hmacSecret "$(openssl rand -hex 16):$(openssl rand -base64 32)"  # or TK_HMAC_SECRET=... in .env.dev',
      'trapperkeeper:postgresPassword: is not set (checked the stack config, $TK_POSTGRES_PASSWORD and .env.dev); pulumi config set --secret postgresPassword "$(openssl rand -base64 24)"  # or TK_POSTGRES_PASSWORD=... in .env.dev',
      "trapperkeeper:release.gate.successes: must be a whole number of checks; pulumi config set --path 'release.gate.successes' 3",
      "trapperkeeper:release.keepReleases: must be at least 2; pulumi config set --path 'release.keepReleases' 5",
      "trapperkeeper:release.standby: must be one of running, stopped; pulumi config set --path 'release.standby' running",
    ]);
  });

  const cases: { title: string; values: Record<string, unknown>; stack?: string; problem: string }[] = [
    {
      title: 'a port out of range',
      values: { docker: { ports: { http: 70000 } } },
      problem: "trapperkeeper:docker.ports.http: must be 1-65535; pulumi config set --path 'docker.ports.http' 8080",
    },
    {
      title: 'a port that is not a number',
      values: { docker: { ports: { grpc: 'fifty' } } },
      problem: "trapperkeeper:docker.ports.grpc: must be a whole number 1-65535 (host port of the public gRPC listener); pulumi config set --path 'docker.ports.grpc' 50051",
    },
    {
      title: 'two listeners on one host port',
      values: { docker: { ports: { http: 8080, grpc: 8080 } } },
      problem: "trapperkeeper:docker.ports.grpc: is 8080, the same host port as docker.ports.http; pulumi config set --path 'docker.ports.grpc' 8081",
    },
    {
      title: 'a staging port, which is no setting: the staging listeners are reached inside the stack network only',
      values: { docker: { ports: { stagingHttp: 8081 } } },
      problem: "trapperkeeper:docker.ports.stagingHttp: is not a known key; pulumi config rm --path 'docker.ports.stagingHttp'",
    },
    {
      title: 'a unix socket without a path',
      values: { docker: { host: 'unix://' } },
      problem:
        "trapperkeeper:docker.host: must be unix:///path/to/docker.sock, tcp://host:port or ssh://user@host (a unix socket needs an absolute path after unix://); pulumi config set --path 'docker.host' ssh://deploy@tk.example.com",
    },
    {
      title: 'an ssh host with a password',
      values: { docker: { host: 'ssh://deploy:hunter2@tk.example.com' } },
      problem:
        "trapperkeeper:docker.host: must be unix:///path/to/docker.sock, tcp://host:port or ssh://user@host (no password: ssh uses your keys or agent); pulumi config set --path 'docker.host' ssh://deploy@tk.example.com",
    },
    {
      title: 'a bind address that is not an IP',
      values: { docker: { bindAddress: 'localhost' } },
      problem:
        "trapperkeeper:docker.bindAddress: must be an IP address such as 127.0.0.1 (this host only) or 0.0.0.0 (every interface); pulumi config set --path 'docker.bindAddress' 127.0.0.1",
    },
    {
      title: 'semver with build metadata',
      values: { app: { version: '1.4.0+build.7' } },
      problem: "trapperkeeper:app.version: must be a semantic version like 1.4.0 or 1.4.0-rc.1 (no +build metadata); pulumi config set --path 'app.version' 1.4.0",
    },
    {
      title: 'a health gate that can never pass',
      values: { release: { gate: { successes: 10, intervalMs: 10000, timeoutMs: 60000 } } },
      problem:
        "trapperkeeper:release.gate.timeoutMs: is 60000 ms, but 10 successes 10000 ms apart take at least 90000 ms, so the gate can never pass; pulumi config set --path 'release.gate.timeoutMs' 300000",
    },
    {
      title: 'a nested key set without --path',
      values: { 'docker.ports.http': '8080' },
      problem:
        "trapperkeeper:docker.ports.http: was set as one flat key (without --path), so it is not read; pulumi config rm 'docker.ports.http' && pulumi config set --path 'docker.ports.http' 8080",
    },
    {
      title: 'a section that is not a map',
      values: { release: 5 },
      problem: "trapperkeeper:release: must be a map of keys, not a number; correct it with pulumi config set --path 'release' <value>",
    },
    {
      title: 'a stack name that cannot name Docker objects',
      values: {},
      stack: 'My_Stack',
      problem: "stack 'My_Stack': names Docker objects and images, so it must be lowercase letters and digits separated by single \".\", \"_\" or \"-\"; pulumi stack rename my_stack",
    },
  ];
  for (const { title, values, stack, problem } of cases) {
    it(`reports ${title}`, () => {
      const problems = problemsOf(() => parseStackConfig(input({ provider: 'docker', ...values }, stack ? { stack } : {})));
      assert.deepEqual(problems, [problem]);
    });
  }

  it('reports a missing provider together with problems of the common keys', () => {
    const problems = problemsOf(() => parseStackConfig(input({ snapshots: { retentionDays: 0 } })));
    assert.deepEqual(problems, [
      'trapperkeeper:provider: is required; pulumi config set provider docker',
      "trapperkeeper:snapshots.retentionDays: must be at least 1; pulumi config set --path 'snapshots.retentionDays' 7",
    ]);
  });

  it('reports an unknown provider', () => {
    assert.deepEqual(problemsOf(() => parseStackConfig(input({ provider: 'kubernetes' }))), [
      'trapperkeeper:provider: must be one of docker, gcp, aws; pulumi config set provider docker',
    ]);
  });

  it('refuses a secret stored in plain text in the stack file, without echoing it', () => {
    const problems = problemsOf(() =>
      parseStackConfig(input({ provider: 'docker', postgresPassword: CANARY.postgresPassword }, { secretConfigKeys: new Set(['trapperkeeper:hmacSecret']) })),
    );
    assert.deepEqual(problems, [
      'trapperkeeper:postgresPassword: is stored in plain text in Pulumi.dev.yaml; pulumi config set --secret postgresPassword "$(openssl rand -base64 24)"  # a new value: the old one is in your history',
    ]);
  });

  it('asks for the Grafana admin password only with monitoring.enabled, and keeps it a secret', async () => {
    const off = parseStackConfig(input({ provider: 'docker' }));
    assert.equal(off.secrets.grafanaAdminPassword, undefined);
    assert.deepEqual(problemsOf(() => parseStackConfig(input({ provider: 'docker', monitoring: { enabled: true } }))), [
      'trapperkeeper:grafanaAdminPassword: is required with monitoring.enabled (checked the stack config, $TK_GRAFANA_ADMIN_PASSWORD and .env.dev); ' +
        'pulumi config set --secret grafanaAdminPassword "$(openssl rand -base64 24)"  # or TK_GRAFANA_ADMIN_PASSWORD=... in .env.dev',
    ]);
    const password = 'grafana-canary-7f3e2a91c0';
    const on = parseStackConfig(input({ provider: 'docker', monitoring: { enabled: true } }, { processEnv: { ...CANARY_ENV, TK_GRAFANA_ADMIN_PASSWORD: password } }));
    assert.ok(on.secrets.grafanaAdminPassword);
    assert.equal(await pulumi.isSecret(on.secrets.grafanaAdminPassword), true);
    assert.equal(on.monitoring.enabled, true);
    const short = problemsOf(() =>
      parseStackConfig(input({ provider: 'docker', monitoring: { enabled: true }, grafanaAdminPassword: 'short-pw' }, { secretConfigKeys: new Set(['trapperkeeper:grafanaAdminPassword']) })),
    );
    assert.deepEqual(short.map((p) => p.split(';')[0]), ['trapperkeeper:grafanaAdminPassword: must be at least 12 characters']);
    assert.ok(!short.join('\n').includes('short-pw'));
    const plain = problemsOf(() => parseStackConfig(input({ provider: 'docker', monitoring: { enabled: true }, grafanaAdminPassword: password })));
    assert.deepEqual(plain.map((p) => p.split(';')[0]), ['trapperkeeper:grafanaAdminPassword: is stored in plain text in Pulumi.dev.yaml']);
  });

  it('reports a wrong monitoring key with its path and an example fix', () => {
    assert.deepEqual(problemsOf(() => parseStackConfig(input({ provider: 'docker', monitoring: { grafana: { bindAddress: 'localhost' } } }))).map((p) => p.split(';')[0]), [
      'trapperkeeper:monitoring.grafana.bindAddress: must be an IP address such as 127.0.0.1 (this host only) or 0.0.0.0 (every interface)',
    ]);
  });

  it('never echoes a malformed secret in its problem', () => {
    const leaky = 'not-a-valid-hmac-secret-but-secret-anyway';
    const problems = problemsOf(() => parseStackConfig(input({ provider: 'docker' }, { processEnv: { ...CANARY_ENV, TK_HMAC_SECRET: leaky } })));
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /^trapperkeeper:hmacSecret: is malformed: expected <32 hex id>:<base64 secret>/);
    assert.ok(!problems.join('\n').includes(leaky));
  });

  it('has an example for every key, so every problem comes with a runnable fix', () => {
    const config = parseStackConfig(input({ provider: 'docker', docker: { host: 'unix:///var/run/docker.sock' }, app: { version: '1.0.0', publicUrl: 'https://x.example.com' }, release: { rollbackTo: '0.3.0-3f2a9c1d-20261123T101500Z+cfg.1a2b3c4d' } }));
    // The domain keys come from a second config: app.publicUrl and docker.domain exclude each other.
    const withDomain = parseStackConfig(input({ provider: 'docker', docker: { domain: 'tk.example.com', acmeEmail: 'ops@example.com' } }));
    const leaves = (value: unknown, path: string): string[] =>
      value !== null && typeof value === 'object' && !Array.isArray(value)
        ? Object.entries(value).flatMap(([key, inner]) => leaves(inner, path ? `${path}.${key}` : key))
        : [path];
    // The notifications keys are checked against their schema in notifications-config.test.ts.
    const { secrets: _secrets, stack: _stack, notifications: _notifications, ...settings } = config;
    assert.ok(withDomain.provider === 'docker');
    const gcp = parseStackConfig(input({ provider: 'gcp', gcp: { project: 'tk-prod-123456', projectNumber: '123456789012', region: 'europe-west1', connection: 'privateIp', network: 'default' } }));
    const gcpKeys = gcp.provider === 'gcp' ? leaves(gcp.gcp, 'gcp') : [];
    // The aws keys, from an aws config with every optional key set.
    const aws = awsConfig('prod', { vpc: { id: 'vpc-0123456789abcdef0', publicSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'], privateSubnetIds: ['subnet-0bbbbbbbbbbbbbbb1', 'subnet-0bbbbbbbbbbbbbbb2'] }, snapshotBucket: 'tk-prod-snapshots' }).aws;
    const withCidr = awsConfig('prod', { vpc: { cidr: '10.1.0.0/16' } }).aws;
    const awsLeaves = [...leaves({ ...aws, gateSourceCidrs: 'list', vpc: { ...aws.vpc, publicSubnetIds: 'list', privateSubnetIds: 'list', cidr: withCidr.vpc.cidr } }, 'aws')];
    const keys = [...new Set([...leaves(settings, ''), ...leaves(withDomain.docker, 'docker'), ...gcpKeys, ...awsLeaves, 'postgresPassword', 'hmacSecret', 'grafanaAdminPassword', ...Object.keys(NOTIFICATIONS_CONFIG_EXAMPLES), ...Object.keys(MONITORING_CONFIG_EXAMPLES)])].sort();
    assert.deepEqual(keys, Object.keys(CONFIG_EXAMPLES).sort());
  });
});
