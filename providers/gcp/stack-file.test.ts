import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { parseStackConfig } from '../config.js';
import { CANARY_ENV } from '../docker/testing.js';
import { planGcpInfrastructure } from './infrastructure-spec.js';
import { gcpTargetOf } from './plan-target.js';
import { planGcpRelease } from './release-plan.js';
import { gcpStackFromFile } from './stack-file.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('finding a GCP stack from its Pulumi.<stack>.yaml (status and lock, without pulumi)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-gcp-stack-file-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the names the program gives the stack (gcp-demo): the same target its release plans carry', () => {
    const found = gcpStackFromFile('gcp-demo', REPO_ROOT);
    assert.ok(found);
    const file = parseYaml(readFileSync(join(REPO_ROOT, 'Pulumi.gcp-demo.yaml'), 'utf8')) as { config: Record<string, unknown> };
    const flat = Object.fromEntries(Object.entries(file.config).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]));
    const config = parseStackConfig({ stack: 'gcp-demo', config: flat, processEnv: CANARY_ENV, envFile: { path: '.env.gcp-demo', values: {} } });
    assert.ok(config.provider === 'gcp');
    const plan = planGcpRelease(config, planGcpInfrastructure(config), { tag: '0.1.0-0123abcd-20261123T101500Z', version: '0.1.0', commit: '0123abcd' });
    assert.deepEqual(found, { stack: 'gcp-demo', target: gcpTargetOf(plan), database: plan.database.name });
    assert.equal(found.target.stateBucket, 'tk-gcp-demo-release-tk-demo-123456');
  });

  it('is not a GCP stack: another provider, or no stack file', () => {
    assert.equal(gcpStackFromFile('dev', REPO_ROOT), undefined, 'Pulumi.dev.yaml is a docker stack');
    assert.equal(gcpStackFromFile('no-such-stack', dir), undefined);
  });

  it('names the database the file sets, and says what is wrong with a broken gcp section', () => {
    writeFileSync(join(dir, 'Pulumi.named.yaml'), 'config:\n  trapperkeeper:provider: gcp\n  trapperkeeper:gcp: { project: tk-p-123456, projectNumber: "123456789012", region: europe-west1 }\n  trapperkeeper:database: { name: sensors }\n');
    assert.equal(gcpStackFromFile('named', dir)?.database, 'sensors');
    writeFileSync(join(dir, 'Pulumi.broken.yaml'), 'config:\n  trapperkeeper:provider: gcp\n  trapperkeeper:gcp: { region: europe-west1 }\n');
    assert.throws(() => gcpStackFromFile('broken', dir), /Pulumi\.broken\.yaml has no valid trapperkeeper:gcp section \(gcp\.project: .*\n  fix: run pulumi preview -s broken/);
  });
});

