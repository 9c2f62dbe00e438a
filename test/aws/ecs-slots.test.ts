import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, DescribeTasksCommand, ECSClient, ListTasksCommand, RegisterTaskDefinitionCommand, UpdateServiceCommand, type Service } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { DeployError } from '../../components/errors.js';
import { exampleReleasePlan } from '../../components/release/memory-backend.js';
import type { ReleasePlan } from '../../components/release/plan.js';
import { awsClients, type AwsClients } from '../../providers/aws/clients.js';
import { ecsSlots } from '../../providers/aws/slots/ecs-slots.js';
import { rolloutOutcome } from '../../providers/aws/slots/rollout.js';
import { TASK_LABELS } from '../../providers/aws/slots/task-definitions.js';
import { DESIRED_COUNT, REGISTRY, declareEcs, testTarget, type DeclaredEcs } from './ecs-stack.js';
import { startMoto, useFakeAwsCredentials, type Moto } from './moto.js';

const TARGET = testTarget();
function plan(releaseId: string, appEnv: Record<string, string> = { TK_LOG_LEVEL: 'info' }): ReleasePlan {
  return exampleReleasePlan(releaseId, { target: { ...TARGET }, appEnv, secretEnv: [] });
}
const V1 = plan('1.0.0-aaaaaaa-20261201T100000Z-b00000001+cfg.00000001');
const V2 = plan('1.1.0-bbbbbbb-20261202T100000Z-b00000001+cfg.00000002', { TK_LOG_LEVEL: 'debug' });

describe('slots on ECS: a slot is its pair of Fargate services, started on the release\'s task definitions (moto)', { timeout: 120_000 }, () => {
  let moto: Moto;
  let clients: AwsClients;
  let declared: DeclaredEcs;
  const progress: Array<Record<string, unknown>> = [];
  const slots = () => ecsSlots(clients.ecs, TARGET, { drainTimeoutMs: 1000, pollMs: 50, rolloutTimeoutMs: 5_000, progress: (fields) => progress.push(fields) });

  before(async () => {
    useFakeAwsCredentials();
    moto = await startMoto();
    clients = awsClients({ region: 'eu-west-1', endpoint: moto.url });
  });
  after(async () => {
    clients?.destroy();
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    progress.length = 0;
    declared = await declareEcs(moto.url, clients.ecs, TARGET);
  });

  async function running(slot: 'blue' | 'green') {
    const { services } = await clients.ecs.send(new DescribeServicesCommand({ cluster: TARGET.cluster, services: [TARGET.services[slot]['web-ui'], TARGET.services[slot]['sensor-api']] }));
    return services!;
  }
  async function containerOf(arn: string) {
    return (await clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }))).taskDefinition!.containerDefinitions![0]!;
  }

  it('a slot the stack declared but no release started holds nothing', async () => {
    assert.equal(await slots().describe('blue'), undefined);
  });

  it('start registers the release\'s task definitions (its image in the stack\'s ECR, its environment, the secrets as references) and runs them at the planned count', async () => {
    await slots().start(V1, 'blue', {});
    const services = await running('blue');
    for (const service of services) {
      const name = service.serviceName!.endsWith('web-ui') ? 'web-ui' : 'sensor-api';
      assert.equal(service.desiredCount, DESIRED_COUNT[name]);
      assert.notEqual(service.taskDefinition, declared.templates.blue[name], 'the service no longer runs the template');
      const container = await containerOf(service.taskDefinition!);
      assert.equal(container.image, `${REGISTRY}/${V1.image.ref}`);
      const env = Object.fromEntries(container.environment!.map((e) => [e.name, e.value]));
      assert.equal(env.TK_RELEASE_ID, V1.image.releaseId);
      assert.equal(env.TK_LOG_LEVEL, 'info', 'the release\'s app settings replace the template\'s');
      assert.match(env.TK_DATABASE_URL ?? '', /^postgres:\/\/trapperkeeper@/, 'the stack\'s variables stay');
      assert.ok(!('TK_HMAC_SECRET' in env) && !('TK_DATABASE_PASSWORD' in env), 'no secret in the plain environment');
      assert.deepEqual(
        container.secrets!.map((s) => [s.name, s.valueFrom]),
        [
          ['TK_HMAC_SECRET', declared.secretArns['hmac-secret']],
          ['TK_DATABASE_PASSWORD', declared.secretArns['database-password']],
        ],
      );
      assert.equal(container.dockerLabels![TASK_LABELS.releaseId], V1.image.releaseId);
    }
    const record = await slots().describe('blue');
    assert.deepEqual(record?.plan, V1, 'the slot describes the plan it was started with, for rollback');
    assert.equal(record?.running, true);
    assert.ok(progress.some((p) => p.event === 'slot.starting') && progress.some((p) => p.event === 'slot.progress'), JSON.stringify(progress));
    assert.equal(await slots().describe('green'), undefined, 'the other slot is untouched');
  });

  it('park running leaves the tasks up; park stopped scales to zero and keeps the release; resume scales back without a new task definition', async () => {
    await slots().start(V1, 'green', {});
    const before = (await running('green')).map((s) => s.taskDefinition);
    const standby = await slots().park('green', 'running');
    assert.equal(standby.clean, true);
    assert.equal((await slots().describe('green'))?.running, true);
    const parked = await slots().park('green', 'stopped');
    assert.equal(parked.clean, true, parked.details.join('; '));
    assert.deepEqual((await running('green')).map((s) => s.desiredCount), [0, 0]);
    const record = await slots().describe('green');
    assert.equal(record?.running, false);
    assert.deepEqual(record?.plan, V1, 'a parked slot still describes its plan');
    await slots().resume(V1, 'green');
    assert.deepEqual((await running('green')).map((s) => s.taskDefinition), before, 'resumed on the same task definitions');
    assert.deepEqual((await running('green')).map((s) => s.desiredCount), [DESIRED_COUNT['web-ui'], DESIRED_COUNT['sensor-api']]);
    assert.equal((await slots().describe('green'))?.running, true);
  });

  it('resume refuses a release the slot does not hold', async () => {
    await slots().start(V1, 'blue', {});
    await slots().park('blue', 'stopped');
    await assert.rejects(slots().resume(V2, 'blue'), (error: unknown) => error instanceof DeployError && /holds 1\.0\.0.*not 1\.1\.0/.test(error.message));
  });

  it('a new start replaces the slot\'s release; remove puts the template back at zero tasks, deregisters the release and leaves nothing to roll back to', async () => {
    await slots().start(V1, 'blue', {});
    await slots().start(V2, 'blue', {});
    assert.deepEqual((await slots().describe('blue'))?.plan, V2);
    const released = (await running('blue')).map((s) => s.taskDefinition!);
    await slots().remove('blue');
    assert.equal(await slots().describe('blue'), undefined);
    const services = await running('blue');
    assert.deepEqual(services.map((s) => s.desiredCount), [0, 0]);
    assert.deepEqual(services.map((s) => s.taskDefinition).sort(), [declared.templates.blue['web-ui'], declared.templates.blue['sensor-api']].sort());
    for (const arn of released) {
      assert.equal((await clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }))).taskDefinition!.status, 'INACTIVE');
    }
  });

  it('a template with a secret in its plain environment is refused before anything changes', async () => {
    await moto.reset();
    declared = await declareEcs(moto.url, clients.ecs, TARGET, 'test', {
      alter: (c) => ({ ...c, environment: [...(c.environment ?? []), { name: 'TK_HMAC_SECRET', value: 'canary-plain-hmac' }] }),
    });
    await assert.rejects(slots().start(V1, 'blue', {}), (error: unknown) => error instanceof DeployError && /TK_HMAC_SECRET in its plain environment/.test(error.message));
    assert.deepEqual((await running('blue')).map((s) => s.desiredCount), [0, 0]);
  });
});

/**
 * moto keeps no deployments (UpdateService leaves a service's deployment list as it was created)
 * and runs no tasks, so a circuit breaker never trips there: DescribeServices is mocked here with
 * the shapes ECS reports (aws-sdk-client-mock), for the failures only AWS shows.
 */
describe('slots on ECS: a deployment that fails or never settles is a failed release, never a success (DescribeServices mocked)', () => {
  const ARN = (rev: number) => `arn:aws:ecs:eu-west-1:123456789012:task-definition/tk-test-blue-web-ui-release:${rev}`;
  const TEMPLATE = { family: 'x', taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/tk-test-blue-web-ui:1' };

  function service(name: string, fields: Partial<Service>): Service {
    return { serviceName: name, status: 'ACTIVE', desiredCount: 2, runningCount: 0, pendingCount: 0, ...fields };
  }

  function mockedEcs(describe: (name: string, call: number) => Service) {
    const ecs = new ECSClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const mock = mockClient(ecs);
    let rev = 10;
    let calls = 0;
    mock.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => {
      const service = (input.taskDefinition ?? '').includes('sensor-api') ? 'sensor-api' : 'web-ui';
      return {
        taskDefinition: {
          ...TEMPLATE,
          family: input.taskDefinition,
          containerDefinitions: [
            {
              name: service,
              image: `${REGISTRY}/tk-test/trapperkeeper:0.9.0`,
              environment: [],
              secrets: [
                { name: 'TK_HMAC_SECRET', valueFrom: 'arn:1' },
                { name: 'TK_DATABASE_PASSWORD', valueFrom: 'arn:2' },
              ],
            },
          ],
        },
      };
    });
    mock.on(RegisterTaskDefinitionCommand).callsFake(() => ({ taskDefinition: { taskDefinitionArn: ARN(++rev) } }));
    mock.on(UpdateServiceCommand).resolves({});
    mock.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => {
      calls += 1;
      return { services: input.services.map((name) => describe(name, calls)) };
    });
    return { ecs, mock };
  }

  it('a circuit-breaker rollback (the service back on its previous task definition, the deployment FAILED) fails the start with what to do', async () => {
    const { ecs } = mockedEcs((name, call) => {
      const ours = name.endsWith('web-ui') ? ARN(12) : ARN(11);
      if (call < 3) return service(name, { taskDefinition: ours, deployments: [{ status: 'PRIMARY', taskDefinition: ours, rolloutState: 'IN_PROGRESS', runningCount: 0, failedTasks: 1 }] });
      return service(name, {
        taskDefinition: ARN(3),
        runningCount: 2,
        deployments: [
          { status: 'PRIMARY', taskDefinition: ARN(3), rolloutState: 'COMPLETED', runningCount: 2 },
          { status: 'INACTIVE', taskDefinition: ours, rolloutState: 'FAILED', rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.' },
        ],
        events: [{ message: '(service x) deployment failed: tasks failed to start.' }],
      });
    });
    const progress: unknown[] = [];
    await assert.rejects(
      ecsSlots(ecs, TARGET, { drainTimeoutMs: 0, pollMs: 1, rolloutTimeoutMs: 2_000, progress: (f) => progress.push(f) }).start(V1, 'blue', {}),
      (error: unknown) => error instanceof DeployError && /circuit breaker/.test(error.message) && /aws ecs describe-services/.test(error.fix ?? ""),
    );
    assert.ok(progress.length >= 2, 'progress was reported while it rolled out');
  });

  it('tasks that never get healthy fail the start when its time is up, naming what each service showed', async () => {
    const { ecs } = mockedEcs((name) => {
      const ours = name.endsWith('web-ui') ? ARN(12) : ARN(11);
      return service(name, { taskDefinition: ours, runningCount: 1, deployments: [{ status: 'PRIMARY', taskDefinition: ours, rolloutState: 'IN_PROGRESS', runningCount: 1, failedTasks: 4 }] });
    });
    const started = Date.now();
    await assert.rejects(
      ecsSlots(ecs, TARGET, { drainTimeoutMs: 0, pollMs: 20, rolloutTimeoutMs: 300 }).start(V1, 'blue', {}),
      (error: unknown) => error instanceof DeployError && /did not reach a steady state within/.test(error.message) && /4 tasks failed to start/.test(error.message),
    );
    assert.ok(Date.now() - started < 3_000, 'bounded by the rollout timeout');
  });

  it('a parked slot whose tasks were cut off mid-drain (SIGKILL, exit 137) is reported unclean, task by task', async () => {
    const { ecs, mock } = mockedEcs((name) => service(name, { desiredCount: 0, runningCount: 0, taskDefinition: ARN(12) }));
    mock.on(ListTasksCommand).resolves({ taskArns: ['arn:aws:ecs:eu-west-1:123456789012:task/tk-test/0abc'] });
    mock.on(DescribeTasksCommand).callsFake(() => ({
      tasks: [{ taskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/tk-test/0abc', stoppedAt: new Date(), stoppedReason: 'Scaling activity initiated by deployment', containers: [{ name: 'web-ui', exitCode: 137 }] }],
    }));
    const report = await ecsSlots(ecs, TARGET, { drainTimeoutMs: 0, pollMs: 1 }).park('blue', 'stopped');
    assert.equal(report.clean, false);
    assert.match(report.details.join('; '), /0abc: exit 137, Scaling activity/);
  });

  it('a service settles only when its deployment of the release is COMPLETED with every task running and no older deployment left', () => {
    const target = { service: 's', taskDefinition: ARN(5), desiredCount: 2 };
    const primary = { status: 'PRIMARY', taskDefinition: ARN(5), rolloutState: 'COMPLETED' as const, runningCount: 2 };
    assert.equal(rolloutOutcome(service('s', { taskDefinition: ARN(5), runningCount: 2, deployments: [primary] }), target).state, 'steady');
    assert.equal(rolloutOutcome(service('s', { taskDefinition: ARN(5), runningCount: 2, deployments: [primary, { status: 'ACTIVE', taskDefinition: ARN(4), runningCount: 1 }] }), target).state, 'progressing');
    assert.equal(rolloutOutcome(service('s', { taskDefinition: ARN(5), runningCount: 2, deployments: [{ ...primary, rolloutState: 'IN_PROGRESS' as const }] }), target).state, 'progressing');
    assert.equal(rolloutOutcome(service('s', { taskDefinition: ARN(5), runningCount: 2, deployments: [{ ...primary, rolloutState: 'FAILED' as const }] }), target).state, 'failed');
    assert.equal(rolloutOutcome(undefined, target).state, 'failed');
  });
});
