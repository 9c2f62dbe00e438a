import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeployError } from '../../../components/errors.js';
import { parseStackConfig } from '../../config.js';
import { CANARY_ENV, pulumiConfig } from '../../docker/testing.js';
import { planGcpInfrastructure } from '../infrastructure-spec.js';
import { GCP_REVISION_REFS_ENV, revisionRefsFrom } from '../plan-target.js';
import { planGcpRelease } from '../release-plan.js';
import { revisionTemplate } from './revision-template.js';

const IMAGE = { tag: '0.2.0-89abcdef-20261203T101500Z', version: '0.2.0', commit: '89abcdef' };

function planFor(gcp: Record<string, unknown>, app: Record<string, unknown> = {}) {
  const config = parseStackConfig({
    stack: 'prod',
    config: pulumiConfig({ provider: 'gcp', gcp: { project: 'tk-prod-123456', projectNumber: 123456789012, region: 'europe-west1', ...gcp }, app }),
    processEnv: CANARY_ENV,
    envFile: { path: '.env.prod', values: {} },
  });
  assert.ok(config.provider === 'gcp');
  return planGcpRelease(config, planGcpInfrastructure(config), IMAGE);
}

const REFS = { databaseUrl: 'postgresql://trapperkeeper@10.20.0.3:5432/trapperkeeper?sslmode=no-verify', secretVersions: { TK_HMAC_SECRET: '4', TK_DATABASE_PASSWORD: '2' } };

describe('the template of a release\'s Cloud Run revision (built from the plan, never from the service)', () => {
  it('privateIp: the release\'s image, environment and scaling, Direct VPC egress to the private IP, no Cloud SQL volume, secrets pinned to the versions pulumi up passed', () => {
    const plan = planFor({ connection: 'privateIp', network: 'tk-vpc', instances: { min: 2, max: 6 } }, { logLevel: 'warn' });
    const template = revisionTemplate(plan, 'sensor-api', REFS);
    assert.equal(template.serviceAccount, 'tk-prod-run@tk-prod-123456.iam.gserviceaccount.com');
    assert.deepEqual(template.scaling, { minInstanceCount: 2, maxInstanceCount: 6 });
    assert.deepEqual(template.timeout, { seconds: 3600 });
    assert.deepEqual(template.vpcAccess, { networkInterfaces: [{ network: 'tk-vpc' }], egress: 'PRIVATE_RANGES_ONLY' });
    assert.equal(template.volumes, undefined);
    const [container] = template.containers ?? [];
    assert.ok(container);
    assert.equal(container.image, plan.image.ref);
    assert.deepEqual(container.ports, [{ name: 'h2c', containerPort: 50051 }]);
    assert.deepEqual(container.startupProbe, { grpc: { port: 50051 }, periodSeconds: 2, failureThreshold: 30 });
    assert.equal(container.volumeMounts, undefined);
    assert.deepEqual(container.env, [
      { name: 'TK_LOG_LEVEL', value: 'warn' },
      { name: 'TK_RELEASE_ID', value: plan.image.releaseId },
      { name: 'TK_DATABASE_URL', value: REFS.databaseUrl },
      { name: 'TK_HMAC_SECRET', valueSource: { secretKeyRef: { secret: 'tk-prod-hmac-secret', version: '4' } } },
      { name: 'TK_DATABASE_PASSWORD', valueSource: { secretKeyRef: { secret: 'tk-prod-database-password', version: '2' } } },
    ]);
  });

  it('connector: the web UI mounts the instance\'s socket and is probed on /readyz', () => {
    const template = revisionTemplate(planFor({}), 'web-ui', { ...REFS, databaseUrl: 'postgresql://trapperkeeper@localhost/trapperkeeper?host=%2Fcloudsql%2Fx' });
    assert.deepEqual(template.volumes, [{ name: 'cloudsql', cloudSqlInstance: { instances: ['tk-prod-123456:europe-west1:tk-prod-postgres'] } }]);
    assert.equal(template.vpcAccess, undefined);
    assert.deepEqual(template.containers?.[0]?.volumeMounts, [{ name: 'cloudsql', mountPath: '/cloudsql' }]);
    assert.deepEqual(template.containers?.[0]?.startupProbe, { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 2, failureThreshold: 30 });
    assert.deepEqual(template.timeout, { seconds: 300 });
  });

  it('refuses to build a revision without the refs pulumi up passes, naming the variable and the fix', () => {
    for (const env of [{}, { [GCP_REVISION_REFS_ENV]: 'not json' }, { [GCP_REVISION_REFS_ENV]: JSON.stringify({ databaseUrl: '' }) }]) {
      assert.throws(() => revisionRefsFrom(env), (error: unknown) => error instanceof DeployError && error.message.includes(GCP_REVISION_REFS_ENV) && /pulumi up/.test(error.fix ?? ''));
    }
    assert.throws(() => revisionTemplate(planFor({}), 'web-ui', { ...REFS, secretVersions: { TK_HMAC_SECRET: '4' } }), /TK_DATABASE_PASSWORD/);
    assert.deepEqual(revisionRefsFrom({ [GCP_REVISION_REFS_ENV]: JSON.stringify(REFS) }), REFS);
  });
});
