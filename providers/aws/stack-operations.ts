import { DescribeLogStreamsCommand, FilterLogEventsCommand, type FilteredLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, type Service } from '@aws-sdk/client-ecs';
import { DescribeLoadBalancersCommand, DescribeTargetGroupsCommand, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DeployError } from '../../components/errors.js';
import { describeHolder } from '../../components/lock/lock-holder.js';
import { APP_SERVICES, SLOTS, type AppService, type ReleasePlan, type Slot } from '../../components/release/plan.js';
import type { ProxyRouting, SlotRecord, SnapshotRecord } from '../../components/release/ports.js';
import { newestVerified } from '../../components/release/rollback.js';
import {
  appServiceOf,
  logServices,
  previousRelease,
  type ComponentHealth,
  type LogRequest,
  type LogSink,
  type StackOperations,
  type StackSnapshot,
  type StackStatusReport,
  type StackTargetOptions,
} from '../stack-operations.js';
import { followLines, type FollowedLine } from '../log-follow.js';
import { awsClients, type AwsClients } from './clients.js';
import { ecsDatabase } from './database/ecs-database.js';
import { breakDynamoLock, readDynamoLock, type DynamoLockStatus } from './lock/dynamodb-lock.js';
import { awsTargetOf, type AwsTargetPlan } from './plan-target.js';
import { elbRouting } from './routing/listener-routing.js';
import { ecsSlots } from './slots/ecs-slots.js';
import { listSnapshots } from './snapshot/s3-snapshots.js';
import { awsStackFromFile, type AwsStackRef } from './stack-file.js';

/** How far back `logs` looks for the last lines before it reads the whole group. */
const LOG_WINDOWS_MS = [3_600_000, 86_400_000, 14 * 86_400_000] as const;
/** FilterLogEvents takes at most 100 stream names. */
const MAX_STREAMS = 100;

/**
 * The operator's view of an AWS stack (providers/stack-operations.ts), through the release's own
 * ports and the AWS SDK's default credentials in the file's aws.region: the ECS services of each
 * slot and the release their task definitions carry, the load balancer's listeners, the DynamoDB
 * lock, the snapshots in S3 (a backup is the release's one-off pg_dump task), and the services'
 * CloudWatch Logs.
 */
export async function withAwsStackOperations<T>(stack: string, options: StackTargetOptions, work: (operations: StackOperations) => Promise<T>): Promise<T> {
  const ref = awsStackFromFile(stack, options.dir ?? process.cwd());
  if (!ref) throw new DeployError(`Pulumi.${stack}.yaml is not an AWS stack`, `pulumi config set provider aws -s ${stack}`);
  const given = options.aws?.clients;
  const clients = given ?? awsClients({ region: ref.target.region, maxAttempts: 3, ...(options.aws?.endpoint ? { endpoint: options.aws.endpoint } : {}) });
  try {
    return await work(awsStackOperations(clients, ref));
  } catch (error) {
    throw awsProblem(error, ref);
  } finally {
    if (!given) clients.destroy();
  }
}

interface AwsStackState {
  records: (SlotRecord | undefined)[];
  /** The target as the newest release recorded it (its listener ports, counts), else as the stack file declares it. */
  target: AwsTargetPlan;
  routing: ProxyRouting;
}

export function awsStackOperations(clients: AwsClients, ref: AwsStackRef): StackOperations {
  const { stack } = ref;
  const lockTarget = { client: clients.dynamodb, region: ref.target.region, table: ref.target.lockTable, stack };
  const bucket = { client: clients.s3, bucket: ref.target.snapshotBucket };

  async function readState(): Promise<AwsStackState> {
    const slots = ecsSlots(clients.ecs, ref.target, { drainTimeoutMs: 0 });
    const records = await Promise.all(SLOTS.map((slot) => slots.describe(slot)));
    const newest = records.filter((record): record is SlotRecord => record !== undefined).sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime())[0];
    const target = newest ? awsTargetOf(newest.plan) : ref.target;
    return { records, target, routing: await elbRouting(clients.elbv2, target).peek() };
  }

  async function report(state: AwsStackState, snapshots: SnapshotRecord[]): Promise<StackStatusReport> {
    const lock = await readDynamoLock(lockTarget);
    return {
      live: state.routing.live,
      slots: Object.fromEntries(SLOTS.map((slot, index) => [slot, state.records[index]?.plan.image.releaseId ?? null])) as Record<Slot, string | null>,
      latestSnapshot: newestVerified(snapshots)?.name ?? null,
      lock: describeLock(lock),
    };
  }

  /** The plan of the release users reach (else the newest a slot holds): what a backup runs with. */
  function servingPlan(state: AwsStackState): ReleasePlan {
    const live = state.records.find((record) => record && record.slot === state.routing.live?.slot) ?? state.records.find(Boolean);
    if (!live) throw new DeployError(`Stack ${stack} has no release on AWS (neither slot's ECS services run a release's task definition)`, `tkctl up --stack ${stack}`);
    return live.plan;
  }

  return {
    stack,
    provider: 'aws',

    async report() {
      const [state, snapshots] = await Promise.all([readState(), listSnapshots(bucket)]);
      return report(state, snapshots);
    },

    async status() {
      const [state, snapshots] = await Promise.all([readState(), listSnapshots(bucket)]);
      const [summary, health] = await Promise.all([report(state, snapshots), serviceHealth(clients, state)]);
      return {
        report: summary,
        previous: previousRelease(
          summary.live,
          state.records.map((record) => record && { slot: record.slot, releaseId: record.plan.image.releaseId, running: record.running }),
        ),
        health,
        snapshots: snapshots.map((s): StackSnapshot => ({ name: s.name, takenAt: s.takenAt, verified: s.verified, size: s.size, sha256: null, commit: null })),
      };
    },

    async lockStatus() {
      return describeLock(await readDynamoLock(lockTarget));
    },

    async breakLock({ events, by, reason }) {
      const found = await breakDynamoLock(lockTarget, events, { by, ...(reason ? { reason } : {}) });
      if (found.state === 'free') events.logger.info({ lock: `${lockTarget.table}/deploy` }, 'the deploy lock was free: nothing to break');
    },

    async backup(events) {
      const plan = servingPlan(await readState());
      const target = awsTargetOf(plan);
      events.logger.info({ task: `${target.cluster}-snapshot`, bucket: target.snapshotBucket }, `taking a snapshot of RDS ${target.database} with the one-off task ${target.cluster}-snapshot (pg_dump, uploaded to S3, read back in full, checksum)`);
      const taken = await ecsDatabase(clients, target).snapshot(plan, events);
      const location = `s3://${target.snapshotBucket}/${taken.name}`;
      return { name: taken.name, takenAt: taken.takenAt, verified: taken.verified, size: taken.size ?? null, sha256: taken.sha256 ?? null, commit: plan.image.commit, location, fields: {} };
    },

    async listSnapshots() {
      const snapshots = await listSnapshots(bucket);
      return {
        location: `s3://${bucket.bucket}/snapshots/`,
        snapshots: snapshots.map((s) => ({ name: s.name, takenAt: s.takenAt, verified: s.verified, size: s.size, sha256: null, commit: null })),
        traces: [],
      };
    },

    async logs(request: LogRequest, sink: LogSink) {
      const services = logServices(request).map((service) => {
        const app = appServiceOf(service);
        if (app) return app;
        throw service === 'postgres'
          ? new DeployError(
              `An AWS stack's PostgreSQL is the RDS instance ${ref.target.database}, whose logs RDS keeps itself`,
              `aws rds describe-db-log-files --region ${ref.target.region} --db-instance-identifier ${ref.target.database}, then aws rds download-db-log-file-portion --region ${ref.target.region} --db-instance-identifier ${ref.target.database} --log-file-name <name> --output text`,
            )
          : new DeployError(`An AWS stack has no Caddy: its load balancer ${ref.target.loadBalancer} routes`, `tkctl logs web-ui --stack ${stack} (the app logs every request it answers)`);
      });
      const state = await readState();
      const live = state.routing.live;
      if (!live) throw new DeployError(`Stack ${stack} has no live slot (its load balancer's listeners forward to no release)`, `tkctl up --stack ${stack}`);
      const sources = await Promise.all(services.map((service) => logSource(clients, state.target, live.slot, service)));
      const prefix = sources.length > 1 ? (service: AppService) => `${service} | ` : () => '';
      const write = ({ source, event }: SourcedEvent) => sink.out(`${prefix(source.service)}${event.message ?? ''}`);
      const lines = (await Promise.all(sources.map((source) => lastEvents(clients, source, request.tail)))).flat().sort(byTime);
      for (const line of lines) write(line);
      if (!request.follow) return;
      await followLines((since) => eventsOfAllSince(clients, sources, since), { since: 0, printed: lines }, write);
    },
  };
}

function describeLock(lock: DynamoLockStatus): string {
  if (lock.state === 'held') return describeHolder(lock.holder, new Date());
  return lock.state === 'free' ? 'free' : `unreadable (${lock.problems.join('; ')})`;
}

/**
 * Each slot's ECS services that hold a release: their tasks (running of desired, the rollout) and
 * their load balancer targets (healthy of registered, with the reasons of the others), and the
 * load balancer itself.
 */
async function serviceHealth(clients: AwsClients, state: AwsStackState): Promise<ComponentHealth[]> {
  const { target } = state;
  const held = SLOTS.filter((_, index) => state.records[index]);
  const names = held.flatMap((slot) => APP_SERVICES.map((service) => target.services[slot][service]));
  const [described, groups, balancer] = await Promise.all([
    names.length > 0 ? clients.ecs.send(new DescribeServicesCommand({ cluster: target.cluster, services: names })) : Promise.resolve({ services: [] as Service[] }),
    names.length > 0 ? clients.elbv2.send(new DescribeTargetGroupsCommand({ Names: held.flatMap((slot) => APP_SERVICES.map((service) => target.targetGroups[slot][service])) })) : Promise.resolve({ TargetGroups: [] }),
    clients.elbv2.send(new DescribeLoadBalancersCommand({ Names: [target.loadBalancer] })).catch(() => ({ LoadBalancers: [] })),
  ]);
  const health: ComponentHealth[] = [
    { component: target.loadBalancer, role: 'load balancer', state: balancer.LoadBalancers?.[0]?.State?.Code ?? 'missing', health: null },
  ];
  for (const slot of held) {
    const role = slot === state.routing.live?.slot ? 'live' : 'parked';
    for (const service of APP_SERVICES) {
      const name = target.services[slot][service];
      const ecs = described.services?.find((s) => s.serviceName === name);
      const group = groups.TargetGroups?.find((g) => g.TargetGroupName === target.targetGroups[slot][service]);
      const targets = group?.TargetGroupArn ? ((await clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: group.TargetGroupArn }))).TargetHealthDescriptions ?? []) : [];
      const healthy = targets.filter((t) => t.TargetHealth?.State === 'healthy').length;
      const others = targets.filter((t) => t.TargetHealth?.State !== 'healthy').map((t) => `${t.Target?.Id ?? '?'} ${t.TargetHealth?.State ?? 'unknown'}${t.TargetHealth?.Reason ? ` (${t.TargetHealth.Reason})` : ''}`);
      const rollout = ecs?.deployments?.find((d) => d.status === 'PRIMARY')?.rolloutState;
      health.push({
        component: name,
        role: `${service} (${role})`,
        state: ecs ? `${ecs.runningCount ?? 0}/${ecs.desiredCount ?? 0} tasks${rollout && rollout !== 'COMPLETED' ? `, rollout ${rollout.toLowerCase()}` : ''}` : 'missing',
        health: group ? `${healthy}/${targets.length} targets healthy${others.length > 0 ? `: ${others.join(', ')}` : ''}` : 'no target group',
      });
    }
  }
  return health;
}

interface LogSource {
  service: AppService;
  group: string;
  /** `<slot>/<service>/`: the awslogs streams of the slot's tasks of that service. */
  streamPrefix: string;
}

/** Where the live slot's tasks of `service` log: the awslogs group and stream prefix their task definition names. */
async function logSource(clients: AwsClients, target: AwsTargetPlan, slot: Slot, service: AppService): Promise<LogSource> {
  const name = target.services[slot][service];
  const { services } = await clients.ecs.send(new DescribeServicesCommand({ cluster: target.cluster, services: [name] }));
  const definition = services?.[0]?.taskDefinition;
  const container = definition ? (await clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: definition }))).taskDefinition?.containerDefinitions?.find((c) => c.name === service) : undefined;
  const options = container?.logConfiguration?.logDriver === 'awslogs' ? container.logConfiguration.options : undefined;
  const group = options?.['awslogs-group'];
  const prefix = options?.['awslogs-stream-prefix'];
  if (!group || !prefix) {
    throw new DeployError(`The ECS service ${name} runs no task definition that logs to CloudWatch Logs (awslogs)`, '`pulumi up` declares the services\' logs; run it, then release again');
  }
  return { service, group, streamPrefix: `${prefix}/${service}/` };
}

/** A CloudWatch Logs event of a source, with its id and time as a follow tracks them. */
interface SourcedEvent extends FollowedLine {
  source: LogSource;
  event: FilteredLogEvent;
}

const byTime = (a: SourcedEvent, b: SourcedEvent) => a.at - b.at || a.id.localeCompare(b.id);

/** The newest streams of a source (at most 100: what FilterLogEvents takes), by their last event. */
async function streamsOf(clients: AwsClients, source: LogSource): Promise<string[]> {
  const streams: { name: string; last: number }[] = [];
  let token: string | undefined;
  do {
    const page = await clients.logs.send(new DescribeLogStreamsCommand({ logGroupName: source.group, logStreamNamePrefix: source.streamPrefix, nextToken: token }));
    for (const stream of page.logStreams ?? []) if (stream.logStreamName) streams.push({ name: stream.logStreamName, last: stream.lastEventTimestamp ?? stream.creationTime ?? 0 });
    token = page.nextToken;
  } while (token);
  return streams.sort((a, b) => b.last - a.last).slice(0, MAX_STREAMS).map((s) => s.name);
}

async function eventsSince(clients: AwsClients, source: LogSource, streams: string[], startTime: number | undefined): Promise<SourcedEvent[]> {
  if (streams.length === 0) return [];
  const found: SourcedEvent[] = [];
  let token: string | undefined;
  do {
    const page = await clients.logs.send(new FilterLogEventsCommand({ logGroupName: source.group, logStreamNames: streams, ...(startTime !== undefined ? { startTime } : {}), nextToken: token }));
    for (const event of page.events ?? []) found.push({ source, event, id: event.eventId ?? '', at: event.timestamp ?? 0 });
    token = page.nextToken;
  } while (token);
  return found;
}

/** The last `tail` lines of a source: the last hour first, further back only while that has too few. */
async function lastEvents(clients: AwsClients, source: LogSource, tail: number | 'all'): Promise<SourcedEvent[]> {
  const streams = await streamsOf(clients, source);
  const windows = tail === 'all' ? [undefined] : [...LOG_WINDOWS_MS, undefined];
  for (const window of windows) {
    const found = (await eventsSince(clients, source, streams, window === undefined ? undefined : Date.now() - window)).sort(byTime);
    if (tail === 'all') return found;
    if (found.length >= tail || window === undefined) return tail === 0 ? [] : found.slice(-tail);
  }
  return [];
}

/** The events of every source at or after `since` (ms), oldest first: what `logs --follow` polls (providers/log-follow.ts). */
async function eventsOfAllSince(clients: AwsClients, sources: LogSource[], since: number): Promise<SourcedEvent[]> {
  return (await Promise.all(sources.map(async (source) => eventsSince(clients, source, await streamsOf(clients, source), since)))).flat().sort(byTime);
}

/**
 * An AWS API failure as a person can act on it: no credentials, an endpoint that cannot be
 * reached, a refusal, or a stack whose resources are not there. Anything else passes unchanged.
 */
export function awsProblem(error: unknown, ref: AwsStackRef): unknown {
  if (error instanceof DeployError || !(error instanceof Error)) return error;
  const name = error.name;
  const code = (error as { code?: string }).code ?? (error.cause as { code?: string } | undefined)?.code;
  const { region } = ref.target;
  const stack = ref.stack;
  if (name === 'CredentialsProviderError' || /Could not load credentials|Unable to locate credentials/i.test(error.message)) {
    return new DeployError(
      `Stack ${stack} is on AWS (${region}), and no AWS credentials were found: ${error.message}`,
      'aws sso login (with AWS_PROFILE set to your profile) or aws configure, then check with: aws sts get-caller-identity',
    );
  }
  if (['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTUNREACH'].includes(code ?? '') || name === 'TimeoutError') {
    return new DeployError(
      `Stack ${stack}: the AWS API in ${region} cannot be reached (${code ?? name}: ${error.message})`,
      `check the network and any AWS_ENDPOINT_URL in the environment (${process.env.AWS_ENDPOINT_URL ?? 'unset'}), then: aws sts get-caller-identity --region ${region}`,
    );
  }
  if (['UnrecognizedClientException', 'InvalidClientTokenId', 'ExpiredTokenException', 'ExpiredToken', 'InvalidSignatureException', 'SignatureDoesNotMatch'].includes(name)) {
    return new DeployError(`Stack ${stack}: AWS refused the credentials (${name}: ${error.message})`, 'aws sso login (or renew the keys), then check with: aws sts get-caller-identity');
  }
  if (['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation'].includes(name)) {
    return new DeployError(`Stack ${stack}: AWS denied a call (${error.message})`, 'use a role that may read the stack\'s ECS, ELB, DynamoDB, S3 and CloudWatch Logs resources (aws sts get-caller-identity shows who you are)');
  }
  if (['ResourceNotFoundException', 'ClusterNotFoundException', 'NoSuchBucket', 'LoadBalancerNotFoundException', 'TargetGroupNotFoundException'].includes(name)) {
    return new DeployError(
      `Stack ${stack}: a resource the stack declares is missing in ${region} (${name}: ${error.message})`,
      `pulumi up -s ${stack} declares it (pulumi refresh -s ${stack} first if it was deleted by hand)`,
    );
  }
  return error;
}
