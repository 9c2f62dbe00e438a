/**
 * Test fixtures for the Pulumi mocks tests of providers/ (not exported by the barrel): a mock
 * engine that records every registration with what the mocks API alone does not show (parent,
 * dependencies, retainOnDelete, secret-ness of inputs), canned resource outputs, and a valid
 * config to vary.
 */
import { readFileSync } from 'node:fs';
import * as pulumi from '@pulumi/pulumi';
import { MockMonitor } from '@pulumi/pulumi/runtime/mocks.js';
import { parse as parseYaml } from 'yaml';
import type { DockerStackConfig } from '../config.js';
import { parseStackConfig } from '../config.js';
import type { GitFacts } from './image-tag.js';

export interface RecordedResource {
  type: string;
  name: string;
  urn: string;
  custom: boolean;
  /** As sent to the engine: each secret stays wrapped where it is (see isWrappedSecret). */
  inputs: Record<string, unknown>;
  parent: string;
  dependencies: string[];
  retainOnDelete: boolean;
  deleteBeforeReplace: boolean;
  provider: string;
  ignoreChanges: string[];
}

export const recorded: RecordedResource[] = [];

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getCustom(): boolean;
  getObject(): { toJavaScript(): Record<string, unknown> };
  getParent(): string;
  getDependenciesList(): string[];
  getRetainondelete(): boolean;
  getDeletebeforereplace(): boolean;
  getProvider(): string;
  getIgnorechangesList(): string[];
}

let patched = false;

/** Wraps the mock monitor once per process so every registration lands in `recorded`. */
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
          custom: req.getCustom(),
          // The wire form, not deserializeProperties (which hoists a nested secret to its whole list).
          inputs: req.getObject().toJavaScript(),
          parent: req.getParent(),
          dependencies: req.getDependenciesList(),
          retainOnDelete: req.getRetainondelete(),
          deleteBeforeReplace: req.getDeletebeforereplace(),
          provider: req.getProvider(),
          ignoreChanges: req.getIgnorechangesList(),
        });
      }
      callback(err, response);
    });
  };
}

/** What the release CLI prints in these tests. */
export const MOCK_RELEASE_SUMMARY = {
  liveSlot: 'green',
  liveRelease: '0.1.0-0123abcd-20261123T101500Z',
  previousRelease: '0.0.9-89abcdef-20261120T080000Z',
  latestSnapshot: 'tk-dev-20261123T101501Z.dump',
} as const;

/** Outputs a real provider would add to a resource's inputs. */
function mockOutputs(args: pulumi.runtime.MockResourceArgs): Record<string, unknown> {
  switch (args.type) {
    case 'docker:index/remoteImage:RemoteImage':
      return { imageId: `sha256:${args.name}` };
    case 'docker:index/image:Image':
      return { repoDigest: `sha256:${args.name}` };
    case 'command:local:Command':
      return { stdout: `progress line\n${JSON.stringify(MOCK_RELEASE_SUMMARY)}\n`, stderr: '' };
    default:
      return {};
  }
}

/** Installs the mocks for a stack; `recorded` is cleared. Call in `before`, and resetRecorded() in `beforeEach`. */
export async function installPulumiMocks(stack: string): Promise<void> {
  recordRegistrations();
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => ({ id: `${args.name}-id`, state: { ...args.inputs, ...mockOutputs(args) } }),
      call: (args) => args.inputs,
    },
    'trapperkeeper-deploy',
    stack,
    false,
  );
  resetRecorded();
}

export function resetRecorded(): void {
  recorded.length = 0;
}

export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

/** Resolves once every given resource is registered (its URN known). */
export async function registered(resources: readonly pulumi.Resource[]): Promise<void> {
  await Promise.all(resources.map((resource) => promiseOf(resource.urn)));
}

export function byType(type: string): RecordedResource[] {
  return recorded.filter((resource) => resource.type === type);
}

export function byName(name: string): RecordedResource {
  const found = recorded.filter((resource) => resource.name === name);
  if (found.length !== 1) throw new Error(`expected one resource named ${name}, found ${found.length}: ${recorded.map((r) => r.name).join(', ')}`);
  return found[0] as RecordedResource;
}

export function isWrappedSecret(value: unknown): boolean {
  return pulumi.runtime.isRpcSecret(value);
}

export function unwrapSecrets(value: unknown): unknown {
  if (isWrappedSecret(value)) return unwrapSecrets(pulumi.runtime.unwrapRpcSecret(value));
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  return value;
}

/** Paths (`envs[2]`) where `needle` occurs in a string that is not inside a secret. */
export function plainOccurrences(value: unknown, needle: string, path = ''): string[] {
  if (isWrappedSecret(value)) return [];
  if (typeof value === 'string') return value.includes(needle) ? [path || '(root)'] : [];
  if (Array.isArray(value)) return value.flatMap((item, i) => plainOccurrences(item, needle, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => plainOccurrences(v, needle, path ? `${path}.${k}` : k));
  return [];
}

/** Canary secrets: distinctive strings whose appearance anywhere plain is a leak. */
export const CANARY = {
  postgresPassword: 'canary-pg-password-7Hq2Zx9',
  hmacSecret: `c0ffee00c0ffee00c0ffee00c0ffee00:${Buffer.from('canary-hmac-secret-0123456789abcdef').toString('base64')}`,
} as const;

export const CANARY_ENV = { TK_POSTGRES_PASSWORD: CANARY.postgresPassword, TK_HMAC_SECRET: CANARY.hmacSecret };

/** Grafana's admin password for configs with monitoring.enabled (dockerConfig reads it from the environment). */
export const GRAFANA_CANARY = 'canary-grafana-admin-5Rt8Wq';

/** A clean checkout: commit 0123abcd... made at 2026-11-23T10:15:00Z. */
export const CLEAN_GIT: GitFacts = {
  commit: '0123abcd'.padEnd(40, 'e'),
  committedAt: new Date('2026-11-23T10:15:00Z'),
  dirtyFiles: [],
};

/** Pulumi.<stack>.yaml of this repository as the language host hands it to the program. */
export function repositoryStackConfig(stack: string): Record<string, string> {
  const text = readFileSync(new URL(`../../Pulumi.${stack}.yaml`, import.meta.url), 'utf8');
  const { config } = parseYaml(text) as { config: Record<string, unknown> };
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]));
}

/** `pulumi config` as the language host hands it over: nested maps as JSON text. */
export function pulumiConfig(values: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [`trapperkeeper:${key}`, typeof value === 'string' ? value : JSON.stringify(value)]),
  );
}

/** A validated docker stack config: `values` over the defaults, the canary secrets from the environment. */
export function dockerConfig(stack: string, values: Record<string, unknown> = {}): DockerStackConfig {
  const config = parseStackConfig({
    stack,
    config: pulumiConfig({ provider: 'docker', ...values }),
    processEnv: { ...CANARY_ENV, TK_GRAFANA_ADMIN_PASSWORD: GRAFANA_CANARY },
    envFile: { path: `.env.${stack}`, values: {} },
  });
  if (config.provider !== 'docker') throw new Error('expected a docker stack');
  return config;
}
