import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { planDockerInfrastructure } from '../../../providers/docker/infrastructure-spec.js';
import { planImageTag } from '../../../providers/docker/image-tag.js';
import { DockerTarget } from '../../../providers/docker/target.js';
import {
  CANARY,
  CLEAN_GIT,
  type RecordedResource,
  byType,
  dockerConfig,
  installPulumiMocks,
  isWrappedSecret,
  registered,
  unwrapSecrets,
} from '../../../providers/docker/testing.js';
import type { DockerStackConfig } from '../../../providers/config.js';
import { declareTarget } from '../../../providers/targets.js';
import { type InfrastructureHandle, standUpInfrastructure } from '../../support/docker-infra.js';
import { freePort } from '../../support/free-port.js';
import { TEST_IMAGES, requireDocker, testEngine, uniqueName } from '../../support/images.js';

/**
 * The tests stand the infrastructure up with the docker CLI (test/support/docker-infra.ts);
 * `pulumi up` creates what the program declares. Both start from one declaration
 * (providers/docker/infrastructure-objects.ts), and this file proves they meet: the program is
 * declared under Pulumi mocks, the same config is stood up on the real engine, and every field
 * the program declares is compared with what `docker inspect` reports.
 */

type Inputs = Record<string, unknown>;

/** The container fields compared below, and the declared ones Docker cannot show, with why. */
const COMPARED_FIELDS = ['name', 'image', 'command', 'envs', 'ports', 'volumes', 'healthcheck', 'labels', 'networksAdvanced', 'restart', 'stopTimeout', 'uploads'];
const NOT_INSPECTABLE: Record<string, string> = {
  wait: 'how creation ends, not a property of the container (the stand-up waits for healthy as well)',
  waitTimeout: 'how long creation waits',
};

/** What a container looks like from outside, in one shape for both sides. */
interface ContainerView {
  name: string;
  image: string;
  command: string[];
  /** Every variable; a secret one's value replaced by SECRET (its name is compared, not its value). */
  env: Record<string, string>;
  /** `<container port>/<protocol> -> <host ip>:<host port>` */
  ports: string[];
  /** `<volume name> -> <path> (rw|ro)` */
  mounts: string[];
  healthcheck: { test: string[]; intervalNs: number; timeoutNs: number; retries: number; startPeriodNs: number } | null;
  labels: Record<string, string>;
  /** Network name -> aliases. */
  networks: Record<string, string[]>;
  restart: string;
  stopTimeout: number | null;
  /** Path -> content of the files written into the container before it starts. */
  uploads: Record<string, string>;
}

const SECRET = '(secret)';

interface ImageConfig {
  Env?: string[] | null;
  Cmd?: string[] | null;
  Labels?: Record<string, string> | null;
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number } | null;
}

interface ContainerInspect {
  Id: string;
  Name: string;
  Config: ImageConfig & { Image: string; StopTimeout?: number | null };
  HostConfig: { RestartPolicy: { Name: string } };
  Mounts: { Type: string; Name?: string; Destination: string; RW: boolean }[];
  NetworkSettings: {
    Ports: Record<string, { HostIp: string; HostPort: string }[] | null>;
    Networks: Record<string, { Aliases: string[] | null }>;
  };
}

function envMap(entries: readonly string[] | null | undefined): Record<string, string> {
  return Object.fromEntries((entries ?? []).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
}

const GO_DURATION_UNITS: Record<string, number> = { h: 3.6e12, m: 6e10, s: 1e9, ms: 1e6, us: 1e3, µs: 1e3, ns: 1 };

/** Nanoseconds of a Go duration such as `5s` or `1m30s`, as Docker stores it. */
function goDurationNs(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new Error(`not a Go duration: ${text}`);
  return parts.reduce((total, [, value, unit]) => total + Number(value) * GO_DURATION_UNITS[unit!]!, 0);
}

function imageHealthcheck(config: ImageConfig): ContainerView['healthcheck'] {
  const check = config.Healthcheck;
  if (!check?.Test) return null;
  return { test: check.Test, intervalNs: check.Interval ?? 0, timeoutNs: check.Timeout ?? 0, retries: check.Retries ?? 0, startPeriodNs: check.StartPeriod ?? 0 };
}

/**
 * The program's side: the container's inputs as the mocks recorded them, over the defaults its
 * image brings (Docker merges the two: image variables and labels, CMD and HEALTHCHECK when unset).
 */
function declaredView(inputs: Inputs, imageRef: string, image: ImageConfig): ContainerView {
  const envs = (inputs.envs as unknown[]).map((entry) => ({ secret: isWrappedSecret(entry), text: String(unwrapSecrets(entry)) }));
  const check = inputs.healthcheck as { tests: string[]; interval: string; timeout: string; retries: number; startPeriod: string } | undefined;
  const networks = inputs.networksAdvanced as { name: string; aliases?: string[] }[];
  return {
    name: inputs.name as string,
    image: imageRef,
    command: (inputs.command as string[] | undefined) ?? image.Cmd ?? [],
    env: {
      ...envMap(image.Env),
      ...envMap(envs.filter((e) => !e.secret).map((e) => e.text)),
      ...Object.fromEntries(envs.filter((e) => e.secret).map((e) => [e.text.slice(0, e.text.indexOf('=')), SECRET])),
    },
    ports: (inputs.ports as { internal: number; external: number; ip: string; protocol?: string }[])
      .map((port) => `${port.internal}/${port.protocol ?? 'tcp'} -> ${port.ip}:${port.external}`)
      .sort(),
    mounts: (inputs.volumes as { volumeName: string; containerPath: string; readOnly?: boolean }[])
      .map((volume) => `${volume.volumeName} -> ${volume.containerPath} (${volume.readOnly ? 'ro' : 'rw'})`)
      .sort(),
    healthcheck: check
      ? { test: check.tests, intervalNs: goDurationNs(check.interval), timeoutNs: goDurationNs(check.timeout), retries: check.retries, startPeriodNs: goDurationNs(check.startPeriod) }
      : imageHealthcheck(image),
    labels: { ...image.Labels, ...Object.fromEntries((inputs.labels as { label: string; value: string }[]).map((l) => [l.label, l.value])) },
    networks: Object.fromEntries(networks.map((network) => [network.name, [...(network.aliases ?? [])].sort()])),
    restart: inputs.restart as string,
    stopTimeout: (inputs.stopTimeout as number | undefined) ?? null,
    uploads: Object.fromEntries((inputs.uploads as { file: string; content: string }[]).map((upload) => [upload.file, upload.content])),
  };
}

/** The stand-up's side: `docker inspect` of the running container, and the declared files read back from it. */
async function observedView(inspect: ContainerInspect, secretNames: readonly string[], uploadPaths: readonly string[]): Promise<ContainerView> {
  const name = inspect.Name.replace(/^\//, '');
  const env = envMap(inspect.Config.Env);
  for (const key of secretNames) if (key in env) env[key] = SECRET;
  const uploads: Record<string, string> = {};
  for (const path of uploadPaths) {
    const read = await testEngine.exec(['exec', name, 'cat', path]);
    uploads[path] = read.exitCode === 0 ? read.stdout : `(missing: ${read.stderr.trim()})`;
  }
  return {
    name,
    image: inspect.Config.Image,
    command: inspect.Config.Cmd ?? [],
    env,
    ports: Object.entries(inspect.NetworkSettings.Ports)
      .flatMap(([port, bindings]) => (bindings ?? []).map((binding) => `${port} -> ${binding.HostIp}:${binding.HostPort}`))
      .sort(),
    mounts: inspect.Mounts.map((mount) => `${mount.Type === 'volume' ? mount.Name : `${mount.Type} mount`} -> ${mount.Destination} (${mount.RW ? 'rw' : 'ro'})`).sort(),
    healthcheck: imageHealthcheck(inspect.Config),
    labels: inspect.Config.Labels ?? {},
    networks: Object.fromEntries(
      Object.entries(inspect.NetworkSettings.Networks).map(([network, settings]) => [
        network,
        // Docker adds the container's short id (and, newer engines, its name) to the aliases it reports.
        (settings.Aliases ?? []).filter((alias) => alias !== inspect.Id.slice(0, 12) && alias !== name).sort(),
      ]),
    ),
    restart: inspect.HostConfig.RestartPolicy.Name,
    stopTimeout: inspect.Config.StopTimeout ?? null,
    uploads,
  };
}

async function inspectJson<T>(args: string[]): Promise<T> {
  return (JSON.parse(await testEngine.run(args)) as T[])[0] as T;
}

async function distinctFreePorts(): Promise<[number, number]> {
  const http = await freePort();
  let grpc = await freePort();
  while (grpc === http) grpc = await freePort();
  return [http, grpc];
}

async function namesByLabel(kind: 'container' | 'volume' | 'network', stack: string): Promise<string[]> {
  const list = kind === 'container' ? ['ps', '--all'] : [kind, 'ls'];
  const out = await testEngine.run([...list, '--filter', `label=tk.stack=${stack}`, '--format', kind === 'container' ? '{{.Names}}' : '{{.Name}}']);
  return out.split('\n').filter(Boolean).sort();
}

describe('the test stand-up starts exactly what the Pulumi program declares (mocks vs docker inspect)', () => {
  const stack = uniqueName('tkdrift');
  let config: DockerStackConfig;
  let infra: InfrastructureHandle | undefined;
  const declared: { containers: Inputs[]; network: Inputs; volumes: Inputs[]; views: Record<string, ContainerView> } = {
    containers: [],
    network: {},
    volumes: [],
    views: {},
  };
  const observed: Record<string, ContainerView> = {};

  before(async () => {
    await requireDocker();
    const [http, grpc] = await distinctFreePorts();
    config = dockerConfig(stack, {
      docker: { images: { postgres: TEST_IMAGES.postgres, caddy: TEST_IMAGES.caddy }, ports: { http, grpc } },
      database: { name: 'tk_drift', user: 'tk_drift' },
      release: { drainTimeoutMs: 2000 },
      ephemeral: true,
    });

    // The program's side: what `pulumi up` would create, declared through the program's own entry.
    await installPulumiMocks(stack);
    const imageTag = planImageTag({ version: '0.1.0', git: CLEAN_GIT, now: new Date('2026-11-24T00:00:00Z') }, { allowDirty: false });
    const target = await declareTarget('tk', { config, imageTag });
    assert.ok(target instanceof DockerTarget);
    const declaredInfra = target.infrastructure;
    await registered([declaredInfra, declaredInfra.network, ...Object.values(declaredInfra.volumes), declaredInfra.postgres, declaredInfra.caddy]);
    const remoteImages = byType('docker:index/remoteImage:RemoteImage');
    declared.containers = byType('docker:index/container:Container').map((r) => r.inputs);
    declared.network = (byType('docker:index/network:Network')[0] as RecordedResource).inputs;
    declared.volumes = byType('docker:index/volume:Volume').map((r) => r.inputs);

    // The tests' side: the same config stood up for real, on the declared host ports.
    infra = await standUpInfrastructure(planDockerInfrastructure(config), { secrets: { postgresPassword: CANARY.postgresPassword }, ephemeralPorts: false });

    for (const inputs of declared.containers) {
      // The mocks give a RemoteImage's id as sha256:<resource name>; the container names the image by it.
      const remote = remoteImages.find((r) => `sha256:${r.name}` === inputs.image);
      assert.ok(remote, `the image of ${String(inputs.name)} is a declared RemoteImage`);
      const ref = remote.inputs.name as string;
      const imageConfig = (await inspectJson<{ Config: ImageConfig }>(['image', 'inspect', ref])).Config;
      const view = declaredView(inputs, ref, imageConfig);
      declared.views[view.name] = view;
      const inspect = await inspectJson<ContainerInspect>(['container', 'inspect', view.name]).catch(() => undefined);
      if (!inspect) continue;
      const secretNames = Object.entries(view.env).filter(([, value]) => value === SECRET).map(([key]) => key);
      observed[view.name] = await observedView(inspect, secretNames, Object.keys(view.uploads));
    }
  });

  after(async () => {
    await infra?.tearDown();
  });

  /** Compares one field of every declared container with what runs. */
  function compare<K extends keyof ContainerView>(field: K): void {
    assert.ok(Object.keys(declared.views).length >= 2, 'the program declares the PostgreSQL and Caddy containers');
    for (const [name, view] of Object.entries(declared.views)) {
      const running = observed[name];
      assert.ok(running, `the program declares container ${name}; the test stand-up started none of that name`);
      assert.deepEqual(running[field], view[field], `${name}: ${field} differs between the test stand-up (actual) and the program's declaration (expected)`);
    }
  }

  it('starts the containers, volumes and network the program declares, and nothing else of the stack', async () => {
    assert.deepEqual(await namesByLabel('container', stack), declared.containers.map((c) => c.name as string).sort());
    assert.deepEqual(await namesByLabel('volume', stack), declared.volumes.map((v) => v.name as string).sort());
    assert.deepEqual(await namesByLabel('network', stack), [declared.network.name as string]);
  });

  it('compares every field the program declares (a new field needs a comparison here)', () => {
    const unchecked: Record<string, string[]> = {};
    const note = (inputs: Inputs, known: (field: string) => boolean) => {
      const fields = Object.keys(inputs).filter((field) => !known(field));
      if (fields.length > 0) unchecked[String(inputs.name)] = fields;
    };
    for (const inputs of declared.containers) note(inputs, (field) => COMPARED_FIELDS.includes(field) || field in NOT_INSPECTABLE);
    for (const inputs of [declared.network, ...declared.volumes]) note(inputs, (field) => ['name', 'driver', 'labels'].includes(field));
    assert.deepEqual(unchecked, {}, 'fields the program declares that this test does not compare with docker inspect');
  });

  it('image and command', () => {
    compare('name');
    compare('image');
    compare('command');
  });

  it('environment: every variable name, the plain ones with their values (secret values are not compared)', () => {
    compare('env');
  });

  it('published ports: host address and host port for each container port', () => {
    compare('ports');
  });

  it('mounts: each volume at its path, read-write', () => {
    compare('mounts');
  });

  it('health check: command, interval, timeout, retries and start period', () => {
    compare('healthcheck');
  });

  it('labels', () => {
    compare('labels');
  });

  it('networks and network aliases', () => {
    compare('networks');
  });

  it('restart policy, stop timeout and the files written in before start', () => {
    compare('restart');
    compare('stopTimeout');
    compare('uploads');
  });

  it('the network and the volumes: driver and labels', async () => {
    const network = await inspectJson<{ Name: string; Driver: string; Labels: Record<string, string> | null }>(['network', 'inspect', declared.network.name as string]);
    const labelsOf = (inputs: Inputs) => Object.fromEntries((inputs.labels as { label: string; value: string }[]).map((l) => [l.label, l.value]));
    assert.deepEqual({ name: network.Name, driver: network.Driver, labels: network.Labels ?? {} }, {
      name: declared.network.name,
      driver: declared.network.driver ?? 'bridge',
      labels: labelsOf(declared.network),
    });
    for (const inputs of declared.volumes) {
      const volume = await inspectJson<{ Name: string; Driver: string; Labels: Record<string, string> | null }>(['volume', 'inspect', inputs.name as string]);
      assert.deepEqual({ name: volume.Name, driver: volume.Driver, labels: volume.Labels ?? {} }, {
        name: inputs.name,
        driver: (inputs.driver as string | undefined) ?? 'local',
        labels: labelsOf(inputs),
      });
    }
  });
});
