import { z } from 'zod';
import { DeployError } from '../errors.js';

/**
 * The release plan: everything a release needs to know, as data that crosses processes and time.
 * The stack program writes it (into the release process's environment), every slot keeps the plan
 * it was started with (so a rollback can bring that release back from the target alone, months
 * later, after the toolkit changed), and each reader parses it here: a plan is validated at every
 * boundary and never cast. `schemaVersion` says which shape a plan has; a reader understands its
 * own version and every older one it has an upgrade for, and refuses newer ones with what to do.
 *
 * Only what every target shares is typed here; `target` holds what one target needs (Docker:
 * the container names and the network) and is validated by that target. Secret values are never
 * in a plan: `secretEnv` names the variables the release process holds and forwards by name.
 */
export const RELEASE_PLAN_SCHEMA_VERSION = 1;

export const SLOTS = ['blue', 'green'] as const;
export type Slot = (typeof SLOTS)[number];

export function otherSlot(slot: Slot): Slot {
  return slot === 'blue' ? 'green' : 'blue';
}

export const APP_SERVICES = ['sensor-api', 'web-ui'] as const;
export type AppService = (typeof APP_SERVICES)[number];

/** Ports the app listens on inside its containers (the app's own defaults). */
export const APP_PORTS = { sensorApiGrpc: 50051, sensorApiHttp: 9090, webUi: 8080 } as const;

/**
 * What becomes of the slot that served before, once a switch is verified: `running` keeps it up
 * but unrouted (the rollback target starts no process, so a rollback takes the gate and the switch
 * only; it costs the memory of a second copy of the app); `stopped` drains and stops it.
 */
export const STANDBY_MODES = ['running', 'stopped'] as const;
export type StandbyMode = (typeof STANDBY_MODES)[number];
export const DEFAULT_STANDBY: StandbyMode = 'running';
/** The app's PostgreSQL database and user unless the stack's `database` section names others. */
export const DEFAULT_DATABASE = { name: 'trapperkeeper', user: 'trapperkeeper' } as const;

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

export const releaseImageSchema = z.object({
  /** What the target runs, e.g. `trapperkeeper:1.4.0-3f2a9c1d-20261123T101500Z-b1a2b3c4`. */
  ref: z.string().min(1),
  /** The image tag plus `+cfg.<digest>` of the config it runs with: unique per release. */
  releaseId: z.string().min(1),
  version: z.string().min(1),
  commit: z.string().min(1),
});
export type ReleaseImage = z.infer<typeof releaseImageSchema>;

export const releasePlanSchema = z.object({
  schemaVersion: z.literal(RELEASE_PLAN_SCHEMA_VERSION),
  stack: z.string().min(1),
  image: releaseImageSchema,
  /** Non-secret environment of the app (TK_LOG_LEVEL, ...). */
  appEnv: z.record(z.string(), z.string()),
  /** Names of secret variables (TK_DATABASE_URL, TK_HMAC_SECRET, ...) forwarded by name. */
  secretEnv: z.array(z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'an environment variable name')),
  database: z.object({ name: z.string().min(1), user: z.string().min(1) }),
  snapshots: z.object({
    retentionDays: positiveInt,
    /** pg_dump --lock-wait-timeout: a dump never queues behind a lock longer than this. */
    lockWaitTimeoutMs: positiveInt,
  }),
  /** Where users reach the live release; the public verification after a switch goes there. */
  endpoints: z.object({ publicHttpUrl: z.url(), publicGrpcAddress: z.string().min(1) }),
  gate: z.object({
    /** Consecutive successes of every check required to promote. */
    successes: positiveInt,
    intervalMs: positiveInt,
    timeoutMs: positiveInt,
  }),
  /** How long in-flight requests of the old slot may take before it is stopped. */
  drainTimeoutMs: nonNegativeInt,
  /** The previous release after a switch (plans written before it existed: `running`). */
  standby: z.enum(STANDBY_MODES).default(DEFAULT_STANDBY),
  /** Release images kept for a rollback to a named release. */
  keepReleases: positiveInt,
  /** Wait this long for another release's lock; 0 refuses at once. */
  lock: z.object({ waitMs: nonNegativeInt }),
  /** `pulumi destroy` deletes the data too (after a final snapshot). */
  ephemeral: z.boolean(),
  /** What the target needs besides (container names, network, ...); its own schema checks it. */
  target: z.looseObject({ kind: z.string().min(1) }),
});
export type ReleasePlan = z.infer<typeof releasePlanSchema>;

export interface ParsePlanOptions {
  /** Where the plan came from, for messages: `TK_RELEASE_PLAN`, `the label of tk-dev-blue-web-ui`. */
  source: string;
  /** What a person does when the plan cannot be read at all. */
  fix: string;
  /**
   * Turns a plan written before plans had a `schemaVersion` into the current shape, or returns
   * undefined when it is not one. Only the target knows that older shape.
   */
  upgradeUnversioned?: (value: Record<string, unknown>) => unknown;
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `  - ${issue.path.join('.') || '(the plan)'}: ${issue.message}`).join('\n');
}

/**
 * Reads a release plan (JSON text or an already parsed value): the current schema, an upgrade of
 * an older one, or a DeployError that says why not and what to do.
 */
export function parseReleasePlan(input: unknown, options: ParsePlanOptions): ReleasePlan {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new DeployError(`The release plan in ${options.source} is not JSON: ${(error as Error).message}`, options.fix);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new DeployError(`The release plan in ${options.source} is not an object`, options.fix);
  }
  const record = value as Record<string, unknown>;
  const version = record.schemaVersion;
  if (version === undefined) {
    const upgraded = options.upgradeUnversioned?.(record);
    if (upgraded === undefined) {
      throw new DeployError(`The release plan in ${options.source} has no schemaVersion and is no older plan this toolkit knows`, options.fix);
    }
    return parseReleasePlan(upgraded, { ...options, upgradeUnversioned: undefined });
  }
  if (typeof version === 'number' && Number.isInteger(version) && version > RELEASE_PLAN_SCHEMA_VERSION) {
    throw new DeployError(
      `The release plan in ${options.source} was written by a newer TrapperKeeper Deploy (plan schema ${version}; this checkout reads up to ${RELEASE_PLAN_SCHEMA_VERSION})`,
      'update this checkout of the toolkit (git pull && npm ci) and run the command again',
    );
  }
  const parsed = releasePlanSchema.safeParse(record);
  if (!parsed.success) {
    throw new DeployError(`The release plan in ${options.source} is not valid:\n${describeIssues(parsed.error)}`, options.fix);
  }
  return parsed.data;
}

/**
 * A target's own part of the plan, checked by the target's schema (a plan for another target, or
 * a malformed one, is refused with the same kind of message as the plan itself).
 */
export function parseTargetSection<T extends z.ZodType>(plan: ReleasePlan, kind: string, schema: T): z.infer<T> {
  if (plan.target.kind !== kind) {
    throw new DeployError(
      `The release plan of stack ${plan.stack} is for the ${plan.target.kind} target, not ${kind}`,
      `check the stack's provider: pulumi config get provider --stack ${plan.stack}`,
    );
  }
  const parsed = schema.safeParse(plan.target);
  if (!parsed.success) {
    throw new DeployError(`The ${kind} part of the release plan of stack ${plan.stack} is not valid:\n${describeIssues(parsed.error)}`, 'release again with `pulumi up`');
  }
  return parsed.data;
}
