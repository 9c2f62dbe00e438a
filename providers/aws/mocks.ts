/**
 * Pulumi mocks for the AWS target's tests (not exported by the barrel): a mock engine that records
 * every registration with what the mocks API alone does not show (parent, provider,
 * ignoreChanges, secret-ness of inputs), and canned answers for the functions the target invokes.
 * No AWS plugin runs: these tests check what the program declares, not what AWS would accept.
 */
import * as pulumi from '@pulumi/pulumi';
import { MockMonitor } from '@pulumi/pulumi/runtime/mocks.js';

export interface RecordedAwsResource {
  type: string;
  name: string;
  urn: string;
  /** As sent to the engine: each secret stays wrapped where it is. */
  inputs: Record<string, unknown>;
  parent: string;
  provider: string;
  ignoreChanges: string[];
  dependencies: string[];
}

export const recorded: RecordedAwsResource[] = [];

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getObject(): { toJavaScript(): Record<string, unknown> };
  getParent(): string;
  getProvider(): string;
  getIgnorechangesList(): string[];
  getDependenciesList(): string[];
}

let patched = false;
function recordRegistrations(): void {
  if (patched) return;
  patched = true;
  const original = MockMonitor.prototype.registerResource;
  MockMonitor.prototype.registerResource = function (this: MockMonitor, req: RegisterRequest, callback: (err: unknown, response: { getUrn(): string } | undefined) => void) {
    return original.call(this, req, (err: unknown, response: { getUrn(): string } | undefined) => {
      if (!err && response) {
        recorded.push({
          type: req.getType(),
          name: req.getName(),
          urn: response.getUrn(),
          inputs: req.getObject().toJavaScript(),
          parent: req.getParent(),
          provider: req.getProvider(),
          ignoreChanges: req.getIgnorechangesList(),
          dependencies: req.getDependenciesList(),
        });
      }
      callback(err, response);
    });
  };
}

export const MOCK_ACCOUNT = '123456789012';
export const MOCK_ZONES = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];
export const MOCK_RELEASE_SUMMARY = { liveSlot: 'blue', liveRelease: '0.1.0-0123abcd-20261123T101500Z+cfg.00000000', previousRelease: null, latestSnapshot: null } as const;

/** Outputs AWS would add to a resource's inputs. */
function mockOutputs(args: pulumi.runtime.MockResourceArgs): Record<string, unknown> {
  const arn = (service: string, resource: string) => `arn:aws:${service}:eu-west-1:${MOCK_ACCOUNT}:${resource}`;
  switch (args.type) {
    case 'aws:ecr/repository:Repository':
      return { repositoryUrl: `${MOCK_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/${String(args.inputs.name)}`, registryId: MOCK_ACCOUNT, arn: arn('ecr', `repository/${String(args.inputs.name)}`) };
    case 'aws:secretsmanager/secret:Secret':
      return { arn: arn('secretsmanager', `secret:${String(args.inputs.name)}-AbCdEf`) };
    case 'aws:rds/instance:Instance':
      return { address: `${String(args.inputs.identifier)}.abcdefghijkl.eu-west-1.rds.amazonaws.com` };
    case 'aws:lb/loadBalancer:LoadBalancer':
      return { arn: arn('elasticloadbalancing', `loadbalancer/app/${String(args.inputs.name)}/0123456789abcdef`), dnsName: `${String(args.inputs.name)}-123456789.eu-west-1.elb.amazonaws.com` };
    case 'aws:lb/targetGroup:TargetGroup':
      return { arn: arn('elasticloadbalancing', `targetgroup/${String(args.inputs.name)}/0123456789abcdef`) };
    case 'aws:cloudwatch/logGroup:LogGroup':
    case 'aws:ecs/cluster:Cluster':
    case 'aws:ecs/taskDefinition:TaskDefinition':
    case 'aws:iam/role:Role':
      return { arn: arn(args.type.split(':')[1]!.split('/')[0]!, `${args.name}`), name: args.inputs.name ?? args.name };
    case 'docker:index/image:Image':
      return { repoDigest: `${String(args.inputs.imageName)}@sha256:${'0'.repeat(64)}` };
    case 'command:local:Command':
      return { stdout: `${JSON.stringify(MOCK_RELEASE_SUMMARY)}\n`, stderr: '' };
    default:
      return {};
  }
}

function mockCall(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
  switch (args.token) {
    case 'aws:index/getAvailabilityZones:getAvailabilityZones':
      return { names: MOCK_ZONES, zoneIds: ['euw1-az1', 'euw1-az2', 'euw1-az3'], id: 'eu-west-1' };
    case 'aws:ecr/getAuthorizationToken:getAuthorizationToken':
      return { userName: 'AWS', password: 'mock-ecr-token', proxyEndpoint: `https://${MOCK_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`, authorizationToken: 'bW9jaw==', expiresAt: '2026-12-03T00:00:00Z', id: 'eu-west-1' };
    default:
      throw new Error(`the AWS target invoked ${args.token}, which these mocks do not answer`);
  }
}

export async function installAwsMocks(stack: string): Promise<void> {
  recordRegistrations();
  await pulumi.runtime.setMocks(
    { newResource: (args) => ({ id: `${args.name}-id`, state: { ...args.inputs, ...mockOutputs(args) } }), call: mockCall },
    'trapperkeeper-deploy',
    stack,
    false,
  );
  recorded.length = 0;
}

export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

/** Lets every registration the program started reach the mock engine. */
export async function settle(): Promise<void> {
  let count = -1;
  while (count !== recorded.length) {
    count = recorded.length;
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
  }
}

export function byType(type: string): RecordedAwsResource[] {
  return recorded.filter((r) => r.type === type);
}

/** The one resource named `name` (of `type`, when resources of several types share the name). */
export function byName(name: string, type?: string): RecordedAwsResource {
  const found = recorded.filter((r) => r.name === name && (type === undefined || r.type === type));
  if (found.length !== 1) throw new Error(`expected one resource named ${name}${type ? ` of type ${type}` : ''}, found ${found.length}`);
  return found[0]!;
}

/** The secret-aware readers of recorded inputs are the Docker mocks' (one copy for every target's mocks tests). */
export { isWrappedSecret, plainOccurrences, unwrapSecrets } from '../docker/testing.js';
