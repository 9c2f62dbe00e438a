import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { DeployError } from '../../components/errors.js';
import { parseStackConfig } from '../config.js';
import { awsTargetOf } from './plan-target.js';
import { planAwsRelease } from './release-plan.js';
import { awsStackFromFile } from './stack-file.js';
import { AWS_CANARY_ENV } from './testing.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('finding an AWS stack from its Pulumi.<stack>.yaml (status, lock and tkctl, without pulumi)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-aws-stack-file-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the names the program gives the stack (staging): the same target its release plans carry', () => {
    const found = awsStackFromFile('staging', REPO_ROOT);
    assert.ok(found);
    const file = parseYaml(readFileSync(join(REPO_ROOT, 'Pulumi.staging.yaml'), 'utf8')) as { config: Record<string, unknown> };
    const flat = Object.fromEntries(Object.entries(file.config).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]));
    const config = parseStackConfig({ stack: 'staging', config: flat, processEnv: AWS_CANARY_ENV, envFile: { path: '.env.staging', values: {} } });
    assert.ok(config.provider === 'aws');
    const plan = planAwsRelease(config, { tag: '0.1.0-0123abcd-20261123T101500Z', version: '0.1.0', commit: '0123abcd' });
    assert.deepEqual(found, { stack: 'staging', target: awsTargetOf(plan) });
  });

  it('is not an AWS stack: another provider, or no stack file', () => {
    assert.equal(awsStackFromFile('dev', REPO_ROOT), undefined, 'Pulumi.dev.yaml is a docker stack');
    assert.equal(awsStackFromFile('gcp-demo', REPO_ROOT), undefined);
    assert.equal(awsStackFromFile('no-such-stack', dir), undefined);
  });

  it('says what is wrong with a broken aws section, and how to see every problem', () => {
    writeFileSync(join(dir, 'Pulumi.broken.yaml'), 'config:\n  trapperkeeper:provider: aws\n  trapperkeeper:aws: { region: mars-1 }\n');
    assert.throws(
      () => awsStackFromFile('broken', dir),
      (error: unknown) => error instanceof DeployError && /aws\.region: must be an AWS region/.test(error.message) && /aws\.domain: is required/.test(error.message) && /fix: run pulumi preview -s broken/.test(error.message),
    );
  });
});
