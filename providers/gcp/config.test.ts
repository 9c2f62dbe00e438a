import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ConfigError, formatConfigProblem, parseStackConfig, type StackConfigInput } from '../config.js';
import { CANARY_ENV, pulumiConfig } from '../docker/testing.js';

const MINIMAL = { project: 'tk-prod-123456', projectNumber: 123456789012, region: 'europe-west1' };

function input(values: Record<string, unknown>, stack = 'prod'): StackConfigInput {
  return { stack, config: pulumiConfig({ provider: 'gcp', ...values }), processEnv: CANARY_ENV, envFile: { path: `.env.${stack}`, values: {} }, secretConfigKeys: new Set() };
}

function problemsOf(values: Record<string, unknown>, stack?: string): string[] {
  try {
    parseStackConfig(input(values, stack));
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems.map(formatConfigProblem);
  }
  assert.fail('the config was accepted');
}

describe('the gcp section of the stack config', () => {
  it('fills safe production defaults from project and region alone: deletion protection, backups, a warm instance, the connector', () => {
    const config = parseStackConfig(input({ gcp: MINIMAL }));
    assert.equal(config.provider, 'gcp');
    assert.deepEqual(config.provider === 'gcp' && config.gcp, {
      project: 'tk-prod-123456',
      projectNumber: '123456789012',
      region: 'europe-west1',
      database: { tier: 'db-custom-1-3840', highAvailability: false, backups: true, deletionProtection: true },
      artifactRepository: 'trapperkeeper',
      instances: { min: 1, max: 10 },
      connection: 'connector',
    });
  });

  it('a missing section names its three required keys, each with the command that sets it', () => {
    assert.deepEqual(problemsOf({}), [
      "trapperkeeper:gcp.project: is required; pulumi config set --path 'gcp.project' tk-prod-123456",
      "trapperkeeper:gcp.projectNumber: is required; pulumi config set --path 'gcp.projectNumber' 123456789012",
      "trapperkeeper:gcp.region: is required; pulumi config set --path 'gcp.region' europe-west1",
    ]);
  });

  it('reports every problem of the section at once, values never echoed', () => {
    const problems = problemsOf({
      gcp: { project: 'My Project 42', projectNumber: 'tk-prod-123456', region: 'europe-west1-b', database: { tier: 'big', deletionProtection: 'yes' }, instances: { min: -1, max: 0 }, connection: 'vpn', artifactRepository: 'Repo_1', zone: 'x' },
    });
    assert.deepEqual(problems, [
      "trapperkeeper:gcp.project: must be a Google Cloud project id: 6-30 lowercase letters, digits and -, starting with a letter (not the project number or display name); pulumi config set --path 'gcp.project' tk-prod-123456",
      "trapperkeeper:gcp.projectNumber: must be the project's number (digits only), not its id: gcloud projects describe <project> --format=\"value(projectNumber)\"; pulumi config set --path 'gcp.projectNumber' 123456789012",
      "trapperkeeper:gcp.region: must be a Google Cloud region like europe-west1 or us-central1 (not a zone); pulumi config set --path 'gcp.region' europe-west1",
      "trapperkeeper:gcp.database.tier: must be a Cloud SQL tier like db-custom-2-7680 or db-perf-optimized-N-2; pulumi config set --path 'gcp.database.tier' db-custom-1-3840",
      "trapperkeeper:gcp.database.deletionProtection: must be a boolean, not a string; pulumi config set --path 'gcp.database.deletionProtection' true",
      "trapperkeeper:gcp.artifactRepository: must be an Artifact Registry repository id: lowercase letters, digits and -, starting with a letter, at most 63 characters; pulumi config set --path 'gcp.artifactRepository' trapperkeeper",
      "trapperkeeper:gcp.instances.min: must be at least 0; pulumi config set --path 'gcp.instances.min' 1",
      "trapperkeeper:gcp.instances.max: must be at least 1; pulumi config set --path 'gcp.instances.max' 10",
      "trapperkeeper:gcp.connection: must be one of connector, privateIp; pulumi config set --path 'gcp.connection' connector",
      "trapperkeeper:gcp.zone: is not a known key; pulumi config rm --path 'gcp.zone'",
    ]);
    assert.ok(!problems.join('\n').includes('My Project 42'));
  });

  it('refuses a minimum above the maximum of instances', () => {
    assert.deepEqual(problemsOf({ gcp: { ...MINIMAL, instances: { min: 5, max: 3 } } }), [
      "trapperkeeper:gcp.instances.min: is 5, above gcp.instances.max (3); pulumi config set --path 'gcp.instances.max' 5",
    ]);
  });

  it('privateIp needs the VPC network; the connector refuses one that would be ignored', () => {
    assert.deepEqual(problemsOf({ gcp: { ...MINIMAL, connection: 'privateIp' } }), [
      "trapperkeeper:gcp.network: is required with gcp.connection privateIp: the VPC network (with private services access) the database and the services join; pulumi config set --path 'gcp.network' default (or pulumi config set --path 'gcp.connection' connector)",
    ]);
    assert.deepEqual(problemsOf({ gcp: { ...MINIMAL, network: 'default' } }), [
      "trapperkeeper:gcp.network: only applies with gcp.connection privateIp, and the connection is connector; pulumi config rm --path 'gcp.network' (or pulumi config set --path 'gcp.connection' privateIp)",
    ]);
    const config = parseStackConfig(input({ gcp: { ...MINIMAL, connection: 'privateIp', network: 'projects/tk-prod-123456/global/networks/tk-vpc' } }));
    assert.equal(config.provider === 'gcp' && config.gcp.network, 'projects/tk-prod-123456/global/networks/tk-vpc');
  });

  it('refuses a stack name that cannot name the service account (tk-<stack>-run, at most 30 characters)', () => {
    assert.deepEqual(problemsOf({ gcp: MINIMAL }, 'Production_EU_west_cluster_one'), [
      "stack 'Production_EU_west_cluster_one': names Google Cloud resources (tk-<stack>-run is a service account id, at most 30 characters), so it must be at most 23 lowercase letters, digits and -, not starting or ending with -; pulumi stack rename production-eu-west-clus",
    ]);
    assert.doesNotThrow(() => parseStackConfig(input({ gcp: MINIMAL }, 'a'.repeat(23))));
  });

  it('a docker section under provider gcp is an unknown key, not silently ignored', () => {
    assert.deepEqual(problemsOf({ gcp: MINIMAL, docker: { host: 'ssh://x@y' } }), ["trapperkeeper:docker: is not a known key; pulumi config rm docker"]);
  });

  it('accepts the example stack Pulumi.gcp-demo.yaml: a throwaway stack that scales to zero', () => {
    const text = readFileSync(fileURLToPath(new URL('../../Pulumi.gcp-demo.yaml', import.meta.url)), 'utf8');
    const { config: values } = parseYaml(text) as { config: Record<string, unknown> };
    const config = parseStackConfig({
      stack: 'gcp-demo',
      config: Object.fromEntries(Object.entries(values).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)])),
      processEnv: CANARY_ENV,
      envFile: { path: '.env.gcp-demo', values: {} },
      secretConfigKeys: new Set(),
    });
    assert.ok(config.provider === 'gcp');
    assert.deepEqual([config.gcp.project, config.gcp.projectNumber, config.gcp.region, config.gcp.connection], ['tk-demo-123456', '123456789012', 'europe-west1', 'connector']);
    assert.deepEqual([config.gcp.database.deletionProtection, config.gcp.instances.min, config.ephemeral], [false, 0, true]);
  });
});
