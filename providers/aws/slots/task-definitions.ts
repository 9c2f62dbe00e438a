import type { ContainerDefinition, KeyValuePair, RegisterTaskDefinitionCommandInput, Tag, TaskDefinition } from '@aws-sdk/client-ecs';
import { DeployError } from '../../../components/errors.js';
import { parseReleasePlan, type AppService, type ReleasePlan, type Slot } from '../../../components/release/plan.js';
import { canonicalJson } from '../../release-command.js';
import { AWS_SECRETS } from '../names.js';
import type { AwsTargetPlan } from '../plan-target.js';

/**
 * The task definitions a release registers. The stack's Pulumi program declares one task
 * definition per slot and service (family = the service's name): the *template*, which holds
 * everything of the stack (roles, size, network mode, logs, the database URL, the secrets as
 * Secrets Manager references). A release copies the template into the family `<service>-release`
 * with its own image, its own environment and, as container labels, its whole plan, so a slot's
 * service says which release it runs (for rollback) without any other store.
 */
export const TASK_LABELS = {
  plan: 'org.trapperkeeper.release-plan',
  releaseId: 'org.trapperkeeper.release-id',
  startedAt: 'org.trapperkeeper.started-at',
} as const;

/** Tag of a release's task definitions (what pruning reads). */
export const RELEASE_ID_TAG = 'trapperkeeper:release-id';

/**
 * Variables of the template that belong to the stack, not to a release: they survive into every
 * release's task definition. Everything else of the template's environment (its own
 * TK_RELEASE_ID, its commit's app settings) is replaced by the release's.
 */
export const STACK_ENV_KEYS = ['TK_DATABASE_URL', 'TK_DATABASE_CA', 'TK_SHUTDOWN_TIMEOUT_MS', 'TK_WEB_UI_TRUST_PROXY'] as const;

export function templateFamily(target: AwsTargetPlan, slot: Slot, service: AppService): string {
  return target.services[slot][service];
}

export function releaseFamily(target: AwsTargetPlan, slot: Slot, service: AppService): string {
  return `${templateFamily(target, slot, service)}-release`;
}

/** `123456789012.dkr.ecr.eu-west-1.amazonaws.com` of `123....amazonaws.com/tk-prod/trapperkeeper:tag`; undefined without a registry host. */
export function registryOf(image: string): string | undefined {
  const first = image.split('/')[0] ?? '';
  return image.includes('/') && /[.:]/.test(first) ? first : undefined;
}

/** The image a release runs: its ref inside the registry the template's image comes from (the stack's ECR). */
export function releaseImage(templateImage: string, plan: ReleasePlan): string {
  const registry = registryOf(templateImage);
  return registry === undefined || plan.image.ref.startsWith(`${registry}/`) ? plan.image.ref : `${registry}/${plan.image.ref}`;
}

/**
 * The template's container of `service`, checked: the app's secrets come from Secrets Manager
 * (`secrets`), and none of them is in the plain environment, where ECS would show it to anyone
 * who may describe task definitions.
 */
export function templateContainer(template: TaskDefinition, service: string): ContainerDefinition {
  const family = template.family ?? '(unknown family)';
  const fix = '`pulumi up` declares the task definitions as they must be (run `pulumi refresh` first if they were changed by hand)';
  const container = template.containerDefinitions?.find((c) => c.name === service);
  if (!container) throw new DeployError(`The task definition ${family} has no container named ${service}`, fix);
  const plain = (container.environment ?? []).map((pair) => pair.name).filter((name) => (Object.values(AWS_SECRETS) as string[]).includes(name ?? ''));
  if (plain.length > 0) throw new DeployError(`The task definition ${family} has the secret ${plain.join(', ')} in its plain environment; secrets must be Secrets Manager references`, fix);
  const missing = Object.values(AWS_SECRETS).filter((name) => !(container.secrets ?? []).some((s) => s.name === name && s.valueFrom));
  if (missing.length > 0) throw new DeployError(`The task definition ${family} does not take ${missing.join(', ')} from Secrets Manager (its container's \`secrets\`)`, fix);
  return container;
}

/** The environment a release runs with: the stack's variables of the template, the release id, the plan's app settings. */
export function releaseEnvironment(templateEnvironment: readonly KeyValuePair[], plan: ReleasePlan): KeyValuePair[] {
  const stack = Object.fromEntries(
    templateEnvironment.filter((pair) => (STACK_ENV_KEYS as readonly string[]).includes(pair.name ?? '')).map((pair) => [pair.name as string, pair.value ?? '']),
  );
  const env: Record<string, string> = { ...plan.appEnv, ...stack, TK_RELEASE_ID: plan.image.releaseId };
  return Object.keys(env)
    .sort()
    .map((name) => ({ name, value: env[name] as string }));
}

/** Fields of a described task definition that a registration takes back (the rest is ECS's own). */
const REGISTRABLE = [
  'taskRoleArn',
  'executionRoleArn',
  'networkMode',
  'volumes',
  'placementConstraints',
  'requiresCompatibilities',
  'cpu',
  'memory',
  'pidMode',
  'ipcMode',
  'proxyConfiguration',
  'inferenceAccelerators',
  'ephemeralStorage',
  'runtimePlatform',
] as const satisfies ReadonlyArray<keyof TaskDefinition & keyof RegisterTaskDefinitionCommandInput>;

/** A registration of `template` under another family, with other containers (and the same everything else). */
export function registrationFrom(template: TaskDefinition, family: string, containerDefinitions: ContainerDefinition[], tags: Tag[]): RegisterTaskDefinitionCommandInput {
  const input: RegisterTaskDefinitionCommandInput = { family, containerDefinitions, tags };
  for (const field of REGISTRABLE) {
    const value = template[field];
    if (value !== undefined && !(Array.isArray(value) && value.length === 0)) (input as unknown as Record<string, unknown>)[field] = value;
  }
  return input;
}

/** Pure: the task definition `plan`'s release runs as in one slot and service, from that slot's template. */
export function releaseTaskDefinition(template: TaskDefinition, plan: ReleasePlan, family: string, service: AppService, startedAt: Date): RegisterTaskDefinitionCommandInput {
  const container = templateContainer(template, service);
  const released: ContainerDefinition = {
    ...container,
    image: releaseImage(container.image ?? '', plan),
    environment: releaseEnvironment(container.environment ?? [], plan),
    dockerLabels: {
      ...container.dockerLabels,
      [TASK_LABELS.plan]: canonicalJson(plan),
      [TASK_LABELS.releaseId]: plan.image.releaseId,
      [TASK_LABELS.startedAt]: startedAt.toISOString(),
    },
  };
  const containers = (template.containerDefinitions ?? []).map((c) => (c.name === service ? released : c));
  return registrationFrom(template, family, containers, [{ key: RELEASE_ID_TAG, value: plan.image.releaseId }]);
}

/** The release a task definition runs, from its labels; undefined for a template (no release). */
export function releaseOfTaskDefinition(definition: TaskDefinition, service: string): { plan: ReleasePlan; startedAt: Date } | undefined {
  const labels = definition.containerDefinitions?.find((c) => c.name === service)?.dockerLabels ?? {};
  const label = labels[TASK_LABELS.plan];
  if (label === undefined) return undefined;
  const plan = parseReleasePlan(label, {
    source: `the labels of task definition ${definition.taskDefinitionArn ?? definition.family}`,
    fix: 'that slot cannot be rolled back to; release again with `pulumi up`',
  });
  const startedAt = new Date(labels[TASK_LABELS.startedAt] ?? 0);
  return { plan, startedAt: Number.isNaN(startedAt.getTime()) ? new Date(0) : startedAt };
}
