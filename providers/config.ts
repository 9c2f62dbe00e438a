import * as pulumi from '@pulumi/pulumi';
import { z } from 'zod';
import { DEFAULT_DATABASE, DEFAULT_STANDBY, STANDBY_MODES } from '../components/release/plan.js';
import { PROVIDERS } from './provider-names.js';
import type { ConfigExamples, ConfigProblem } from './config-errors.js';
import { CONFIG_NAMESPACE, ConfigError, configSetCommand, describeGenericIssue, problemsFromIssues, validFields } from './config-errors.js';
import { AWS_CONFIG_EXAMPLES, awsSectionSchema, checkAwsSection } from './aws/config.js';
import { DOCKER_CONFIG_EXAMPLES, checkDockerSection, dockerSectionSchema } from './docker/config.js';
import { GCP_CONFIG_EXAMPLES, checkGcpSection, gcpSectionSchema } from './gcp/config.js';
import { MONITORING_CONFIG_EXAMPLES, monitoringSectionSchema } from '../components/monitoring/settings.js';
import { GRAFANA_ADMIN_PASSWORD, resolveGrafanaAdminPassword } from './monitoring-config.js';
import type { StackNotifications } from './notifications-config.js';
import { NOTIFICATIONS_CONFIG_EXAMPLES, notificationsSectionSchema, notificationsStoredInPlaintext, resolveNotifications } from './notifications-config.js';
import type { SecretName, SecretSources, StackSecrets } from './stack-secrets.js';
import { STACK_SECRETS, asPulumiSecrets, loadStackEnvFile, resolveSecretValues } from './stack-secrets.js';

export { CONFIG_NAMESPACE, ConfigError, formatConfigProblem } from './config-errors.js';
export type { ConfigProblem } from './config-errors.js';

/** Deployment targets; each joins providers/provider-names.ts and the union below with its section. */
export { PROVIDERS, type ProviderName } from './provider-names.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

/** Provider-agnostic defaults, named so the schema, the docs and the tests agree. */
export const DEFAULT_LOG_LEVEL = 'info';
export const DEFAULT_GATE = { successes: 3, intervalMs: 500, timeoutMs: 60_000 } as const;
export const DEFAULT_DRAIN_TIMEOUT_MS = 15_000;
export const DEFAULT_KEEP_RELEASES = 5;
/** Rollback needs the live and the previous release's images. */
export const MIN_KEEP_RELEASES = 2;
export const DEFAULT_LOCK_WAIT_MS = 0;
export const DEFAULT_SNAPSHOT_RETENTION_DAYS = 7;
export const DEFAULT_SNAPSHOT_LOCK_WAIT_TIMEOUT_MS = 30_000;
export { DEFAULT_DATABASE };

// semver.org's grammar; build metadata ("+...") cannot appear in a Docker tag, so it is refused.
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?$/;
export function isReleaseSemver(value: string): boolean {
  return SEMVER.test(value);
}

/** `<semver>-<git sha>-<UTC time>`, optionally `+cfg.<digest>`: an image tag plus its config digest. */
const RELEASE_ID = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

const count = (min: number, unit: string) =>
  z.int({ error: (issue) => (issue.input === undefined ? undefined : `must be a whole number of ${unit}`) }).min(min, { error: `must be at least ${min}` });

const identifier = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: 'must be a PostgreSQL identifier: lowercase letters, digits and _, starting with a letter or _, at most 63 characters' });

const httpUrl = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && url.username === '' && url.password === '';
    } catch {
      return false;
    }
  },
  { error: 'must be an http:// or https:// URL without credentials, e.g. https://tk.example.com' },
);

const gateSchema = z.strictObject({
  successes: count(1, 'checks').default(DEFAULT_GATE.successes),
  intervalMs: count(100, 'milliseconds').default(DEFAULT_GATE.intervalMs),
  timeoutMs: count(1_000, 'milliseconds').default(DEFAULT_GATE.timeoutMs),
});

/** The provider-agnostic keys (documented on stackConfigSchema). */
const commonShape = {
  app: z
    .strictObject({
      logLevel: z.enum(LOG_LEVELS, { error: (issue) => (issue.input === undefined ? undefined : `must be one of ${LOG_LEVELS.join(', ')}`) }).default(DEFAULT_LOG_LEVEL),
      version: z.string().regex(SEMVER, { error: 'must be a semantic version like 1.4.0 or 1.4.0-rc.1 (no +build metadata)' }).optional(),
      publicUrl: httpUrl.optional(),
    })
    .prefault({}),
  release: z
    .strictObject({
      gate: gateSchema.prefault({}),
      drainTimeoutMs: count(0, 'milliseconds').default(DEFAULT_DRAIN_TIMEOUT_MS),
      standby: z
        .enum(STANDBY_MODES, { error: (issue) => (issue.input === undefined ? undefined : `must be one of ${STANDBY_MODES.join(', ')}`) })
        .default(DEFAULT_STANDBY),
      keepReleases: count(MIN_KEEP_RELEASES, 'releases').default(DEFAULT_KEEP_RELEASES),
      lockWaitMs: count(0, 'milliseconds').default(DEFAULT_LOCK_WAIT_MS),
      allowDirty: z.boolean().default(false),
      rollbackTo: z
        .string()
        .regex(RELEASE_ID, { error: 'must be a release id like 0.3.0-3f2a9c1d-20261123T101500Z (see the liveVersion and previousVersion stack outputs)' })
        .optional(),
    })
    .prefault({}),
  snapshots: z
    .strictObject({
      retentionDays: count(1, 'days').default(DEFAULT_SNAPSHOT_RETENTION_DAYS),
      lockWaitTimeoutMs: count(1, 'milliseconds').default(DEFAULT_SNAPSHOT_LOCK_WAIT_TIMEOUT_MS),
    })
    .prefault({}),
  database: z
    .strictObject({
      name: identifier.default(DEFAULT_DATABASE.name),
      user: identifier.default(DEFAULT_DATABASE.user),
    })
    .prefault({}),
  ephemeral: z.boolean().default(false),
  production: z.boolean().default(false),
  notifications: notificationsSectionSchema.prefault({}),
  monitoring: monitoringSectionSchema.prefault({}),
  postgresPassword: z.string().optional(),
  hmacSecret: z.string().optional(),
  grafanaAdminPassword: z.string().optional(),
};

const providerSchema = z.enum(PROVIDERS, {
  error: (issue) => (issue.input === undefined ? 'is required' : `must be one of ${PROVIDERS.join(', ')}`),
});

/**
 * The provider-agnostic stack config, keys under trapperkeeper: (set nested ones with
 * pulumi config set --path). Secrets are listed here only so their keys are known; their
 * values are resolved by providers/stack-secrets.ts (config, environment or .env.<stack>).
 *
 * provider: the deployment target, docker, gcp or aws. Required.
 * app.logLevel: TK_LOG_LEVEL of the app: trace, debug, info, warn, error or fatal. @default info
 * app.version: when set, app/package.json's version must equal it, so a stack cannot be upgraded by accident. @default unset
 * app.publicUrl: the URL people use when something in front (DNS, TLS) differs from the published port; shown in the outputs. @default http://<host>:<docker.ports.http>
 * release.gate.successes: consecutive passing checks of every service of the new slot before it takes traffic. @default 3
 * release.gate.intervalMs: pause between two passing checks (the slot must stay healthy (successes - 1) x this; before the first pass, checks are 100 ms apart). @default 500
 * release.gate.timeoutMs: how long the gate may take before the release fails, traffic untouched. @default 60000
 * release.drainTimeoutMs: how long in-flight requests of the old slot may finish before it stops. @default 15000
 * release.standby: the previous release after a switch: running (kept up but unrouted, so a rollback starts nothing; costs a second copy's memory) or stopped (drained and stopped). @default running
 * release.keepReleases: release images kept for rollback (at least 2: live and previous). @default 5
 * release.lockWaitMs: wait this long for another release's lock; 0 refuses at once. @default 0
 * release.allowDirty: build uncommitted changes, tagged ...-dirty-<now>; off, a dirty tree is refused. @default false
 * release.rollbackTo: a kept release to serve instead of this commit's (rollback through `pulumi up`, so the outputs stay true); remove it to release again. @default unset
 * snapshots.retentionDays: snapshots older than this are deleted (never the newest good one). @default 7
 * snapshots.lockWaitTimeoutMs: pg_dump --lock-wait-timeout. @default 30000
 * database.name: the app's PostgreSQL database. @default trapperkeeper
 * database.user: the app's PostgreSQL user. @default trapperkeeper
 * ephemeral: true for throwaway stacks: pulumi destroy also deletes the data volumes (after a final snapshot). @default false
 * production: marks a stack that serves real users: `tkctl destroy` refuses it without --force and a typed confirmation, and CI workflows never destroy it. @default false
 * postgresPassword: secret, or TK_POSTGRES_PASSWORD. Required.
 * hmacSecret: secret TK_HMAC_SECRET of the app, or TK_HMAC_SECRET. Required.
 * notifications.*: where deployment events are sent besides the log (webhook, ntfy, slack); see notificationsSectionSchema. @default none
 * monitoring.*: Prometheus, Alertmanager, Grafana and the exporters beside the app; see monitoringSectionSchema. @default off
 * grafanaAdminPassword: secret, or TK_GRAFANA_ADMIN_PASSWORD; Grafana's admin password. Required with monitoring.enabled.
 *
 * The provider's own section follows (docker: dockerSectionSchema; aws: awsSectionSchema); gcp joins the
 * union with its own.
 */
export const stackConfigSchema = z.discriminatedUnion('provider', [
  z.strictObject({ ...commonShape, provider: z.literal('docker'), docker: dockerSectionSchema.prefault({}) }),
  // A missing section reports its required keys (gcp.project, gcp.region), each with its fix.
  z.strictObject({ ...commonShape, provider: z.literal('gcp'), gcp: gcpSectionSchema.prefault({} as z.input<typeof gcpSectionSchema>) }),
  z.strictObject({ ...commonShape, provider: z.literal('aws'), aws: awsSectionSchema.prefault({} as z.input<typeof awsSectionSchema>) }),
]);

/** Example values of every key, for the fixes in problems (and "did you mean" for unknown keys). */
export const CONFIG_EXAMPLES: ConfigExamples = {
  provider: 'docker',
  'app.logLevel': DEFAULT_LOG_LEVEL,
  'app.version': '1.4.0',
  'app.publicUrl': 'https://tk.example.com',
  'release.gate.successes': String(DEFAULT_GATE.successes),
  'release.gate.intervalMs': String(DEFAULT_GATE.intervalMs),
  'release.gate.timeoutMs': String(DEFAULT_GATE.timeoutMs),
  'release.drainTimeoutMs': String(DEFAULT_DRAIN_TIMEOUT_MS),
  'release.standby': DEFAULT_STANDBY,
  'release.keepReleases': String(DEFAULT_KEEP_RELEASES),
  'release.lockWaitMs': String(DEFAULT_LOCK_WAIT_MS),
  'release.allowDirty': 'false',
  'release.rollbackTo': '0.3.0-3f2a9c1d-20261123T101500Z',
  'snapshots.retentionDays': String(DEFAULT_SNAPSHOT_RETENTION_DAYS),
  'snapshots.lockWaitTimeoutMs': String(DEFAULT_SNAPSHOT_LOCK_WAIT_TIMEOUT_MS),
  'database.name': DEFAULT_DATABASE.name,
  'database.user': DEFAULT_DATABASE.user,
  ephemeral: 'false',
  production: 'true',
  postgresPassword: STACK_SECRETS.postgresPassword.example,
  hmacSecret: STACK_SECRETS.hmacSecret.example,
  grafanaAdminPassword: GRAFANA_ADMIN_PASSWORD.example,
  ...NOTIFICATIONS_CONFIG_EXAMPLES,
  ...MONITORING_CONFIG_EXAMPLES,
  ...DOCKER_CONFIG_EXAMPLES,
  ...GCP_CONFIG_EXAMPLES,
  ...AWS_CONFIG_EXAMPLES,
};

type ParsedStackConfig = z.output<typeof stackConfigSchema>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The validated stack config: what every provider and release step is built from. */
export type StackConfig = DistributiveOmit<ParsedStackConfig, SecretName | 'grafanaAdminPassword' | 'notifications'> & {
  stack: string;
  /** grafanaAdminPassword is there exactly when monitoring.enabled. */
  secrets: StackSecrets & { grafanaAdminPassword?: pulumi.Output<string> };
  notifications: StackNotifications;
};
export type DockerStackConfig = Extract<StackConfig, { provider: 'docker' }>;
export type GcpStackConfig = Extract<StackConfig, { provider: 'gcp' }>;
export type AwsStackConfig = Extract<StackConfig, { provider: 'aws' }>;

/** The gate must be able to pass: N successes `intervalMs` apart need (N-1) intervals. */
export function ensureGateCanPass(gate: ParsedStackConfig['release']['gate']): ConfigProblem[] {
  const { successes, intervalMs, timeoutMs } = gate;
  const needed = (successes - 1) * intervalMs;
  if (needed < timeoutMs) return [];
  return [
    {
      path: 'release.gate.timeoutMs',
      problem: `is ${timeoutMs} ms, but ${successes} successes ${intervalMs} ms apart take at least ${needed} ms, so the gate can never pass`,
      fix: configSetCommand('release.gate.timeoutMs', String(Math.max(DEFAULT_GATE.timeoutMs, successes * intervalMs * 3))),
    },
  ];
}

/**
 * The named cross-field checks. Each runs on the fields it reads that are valid on their own, even
 * when others are not, so one run reports everything.
 */
export function checkStackConfig(values: Readonly<Record<string, unknown>>, stack: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const gate = validFields(gateSchema, rawField(values.release, 'gate'));
  if (gate.successes !== undefined && gate.intervalMs !== undefined && gate.timeoutMs !== undefined) {
    problems.push(...ensureGateCanPass({ successes: gate.successes, intervalMs: gate.intervalMs, timeoutMs: gate.timeoutMs }));
  }
  // The docker section is checked when docker is the provider, or when none is named yet.
  if (values.provider === 'docker' || values.provider === undefined) problems.push(...checkDockerSection(values.docker, stack, values.app));
  if (values.provider === 'gcp') problems.push(...checkGcpSection(values.gcp, stack));
  if (values.provider === 'aws') problems.push(...checkAwsSection(values.aws, stack, values.release));
  return problems;
}

function rawField(raw: unknown, key: string): unknown {
  return raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>)[key] : undefined;
}

export interface StackConfigInput {
  stack: string;
  /** Pulumi's config map (`pulumi.runtime.allConfig()`): `trapperkeeper:<key>` -> string or JSON text. */
  config: Readonly<Record<string, string>>;
  /** Full keys (`trapperkeeper:hmacSecret`) whose values Pulumi holds encrypted; undefined when unknown. */
  secretConfigKeys?: ReadonlySet<string>;
  processEnv: Readonly<Record<string, string | undefined>>;
  envFile: SecretSources['envFile'];
}

/**
 * Validates the whole stack config at once: the schema, the cross-field checks and the secrets.
 * Throws one ConfigError listing every problem; returns only a config that can be deployed.
 */
export function parseStackConfig(input: StackConfigInput): StackConfig {
  const decoded = decodeConfigValues(input.config);
  const problems: ConfigProblem[] = [...decoded.problems];

  const parsed = stackConfigSchema.safeParse(decoded.values, { error: describeGenericIssue });
  const config = parsed.success ? parsed.data : undefined;
  if (!parsed.success) problems.push(...problemsFromIssues(providerAware(parsed.error.issues, decoded.values), CONFIG_EXAMPLES));
  problems.push(...checkStackConfig(decoded.values, input.stack));

  const secretValues = Object.fromEntries(
    Object.entries(STACK_SECRETS).flatMap(([name, source]) => {
      const value = decoded.values[source.configKey];
      return typeof value === 'string' ? [[name, value]] : [];
    }),
  ) as Partial<Record<SecretName, string>>;
  const plaintextConfigKeys = new Set(
    input.secretConfigKeys === undefined
      ? []
      : Object.values(STACK_SECRETS)
          .map((source) => source.configKey)
          .filter((key) => `${CONFIG_NAMESPACE}:${key}` in input.config && !input.secretConfigKeys?.has(`${CONFIG_NAMESPACE}:${key}`)),
  );
  const secrets = resolveSecretValues(
    { config: secretValues, plaintextConfigKeys, processEnv: input.processEnv, envFile: input.envFile },
    input.stack,
  );
  problems.push(...secrets.problems);
  const notifications = resolveNotifications(
    { raw: decoded.values.notifications, storedInPlaintext: notificationsStoredInPlaintext(input.config, input.secretConfigKeys), processEnv: input.processEnv, envFile: input.envFile },
    input.stack,
  );
  problems.push(...notifications.problems);
  const grafanaKey = GRAFANA_ADMIN_PASSWORD.configKey;
  const grafanaPassword = resolveGrafanaAdminPassword(
    {
      enabled: rawField(decoded.values.monitoring, 'enabled') === true,
      configValue: typeof decoded.values[grafanaKey] === 'string' ? decoded.values[grafanaKey] : undefined,
      storedInPlaintext: input.secretConfigKeys !== undefined && `${CONFIG_NAMESPACE}:${grafanaKey}` in input.config && !input.secretConfigKeys.has(`${CONFIG_NAMESPACE}:${grafanaKey}`),
      processEnv: input.processEnv,
      envFile: input.envFile,
    },
    input.stack,
  );
  problems.push(...grafanaPassword.problems);

  if (problems.length > 0 || !config || !secrets.values || !notifications.value) throw new ConfigError(input.stack, dedupe(problems));
  const { postgresPassword: _password, hmacSecret: _hmac, grafanaAdminPassword: _grafana, notifications: _notifications, ...settings } = config;
  return {
    ...settings,
    stack: input.stack,
    secrets: {
      ...asPulumiSecrets(secrets.values),
      ...(grafanaPassword.value !== undefined ? { grafanaAdminPassword: pulumi.secret(grafanaPassword.value) } : {}),
    },
    notifications: notifications.value,
  };
}

/**
 * When `provider` is missing or unknown, zod cannot pick a section and stops there; the common
 * keys are still checked (loosely: the unknown section is not reported twice) so every problem
 * shows at once.
 */
function providerAware(issues: readonly z.core.$ZodIssue[], values: Record<string, unknown>): z.core.$ZodIssue[] {
  const providerIssue = issues.find((issue) => issue.code === 'invalid_union' && issue.path.join('.') === 'provider');
  if (!providerIssue) return [...issues];
  const provider = providerSchema.safeParse(values.provider);
  const providerMessage = provider.success ? 'is not valid' : (provider.error.issues[0]?.message ?? 'is not valid');
  const common = z.looseObject(commonShape).safeParse(values, { error: describeGenericIssue });
  // With no provider named yet, a docker section is still checked (the only target so far).
  const docker = values.provider === undefined && values.docker !== undefined ? dockerSectionSchema.safeParse(values.docker, { error: describeGenericIssue }) : undefined;
  return [
    { ...providerIssue, message: providerMessage },
    ...(common.success ? [] : common.error.issues),
    ...(docker && !docker.success ? docker.error.issues.map((issue) => ({ ...issue, path: ['docker', ...issue.path] })) : []),
    ...issues.filter((issue) => issue !== providerIssue),
  ];
}

/**
 * Pulumi hands config values over as strings: nested maps as JSON text, top-level scalars as
 * typed (`ephemeral` is "true"). Secret keys stay strings whatever they look like.
 */
export function decodeConfigValues(config: Readonly<Record<string, string>>): { values: Record<string, unknown>; problems: ConfigProblem[] } {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const secretKeys = new Set<string>([...Object.values(STACK_SECRETS).map((source) => source.configKey), GRAFANA_ADMIN_PASSWORD.configKey]);
  const values: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  for (const [fullKey, text] of Object.entries(config)) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    if (key.includes('.') && key in CONFIG_EXAMPLES) {
      problems.push({
        path: key,
        problem: 'was set as one flat key (without --path), so it is not read',
        fix: `pulumi config rm '${key}' && ${configSetCommand(key, CONFIG_EXAMPLES[key] ?? '<value>')}`,
      });
      continue;
    }
    if (secretKeys.has(key)) {
      values[key] = text;
      continue;
    }
    values[key] = decodeScalarOrJson(text);
  }
  return { values, problems };
}

function decodeScalarOrJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.path}\0${problem.problem}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Keys of this namespace Pulumi holds as secrets. `isConfigSecret` is internal to the SDK, hence the guard. */
function runtimeSecretConfigKeys(config: Readonly<Record<string, string>>): ReadonlySet<string> | undefined {
  const isConfigSecret = (pulumi.runtime as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
  if (typeof isConfigSecret !== 'function') return undefined;
  return new Set(Object.keys(config).filter((key) => isConfigSecret(key)));
}

/**
 * The edge: reads this stack's config, environment and `.env.<stack>`, and validates them once,
 * before any resource is declared.
 */
export function loadStackConfig(options: { stack?: string; dir?: string; processEnv?: Readonly<Record<string, string | undefined>> } = {}): StackConfig {
  const stack = options.stack ?? pulumi.getStack();
  const config = pulumi.runtime.allConfig();
  return parseStackConfig({
    stack,
    config,
    secretConfigKeys: runtimeSecretConfigKeys(config),
    processEnv: options.processEnv ?? process.env,
    envFile: loadStackEnvFile(stack, options.dir),
  });
}
