import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import type { StackSecrets } from '../stack-secrets.js';
import type { ContainerSpec, DockerInfrastructureSpec, VolumeKey } from './infrastructure-spec.js';
import { VOLUME_KEYS } from './infrastructure-spec.js';
import { containerObject, networkObject, volumeObject } from './infrastructure-objects.js';

export interface DockerInfrastructureArgs {
  /** The plan from planDockerInfrastructure(); this component declares exactly it. */
  spec: DockerInfrastructureSpec;
  /** Values for the containers' `secretEnv`. */
  secrets: Pick<StackSecrets, 'postgresPassword'>;
  /**
   * The engine to declare on. @default a provider for `spec.dockerHost`, created here
   */
  provider?: docker.Provider;
}

/**
 * The stable Docker infrastructure of a stack: the private network, the data volumes, PostgreSQL
 * and the Caddy proxy. Releases (the app's blue and green slots) come and go on top of it
 * through the release CLI; nothing here changes on a release.
 */
export class DockerInfrastructure extends pulumi.ComponentResource {
  readonly provider: docker.Provider;
  readonly network: docker.Network;
  readonly volumes: Record<VolumeKey, docker.Volume>;
  readonly postgres: docker.Container;
  readonly caddy: docker.Container;
  /** Published host ports of the proxy, by name. */
  readonly endpoints: DockerInfrastructureSpec['endpoints'];

  constructor(name: string, args: DockerInfrastructureArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('trapperkeeper:docker:Infrastructure', name, {}, opts);
    const { spec } = args;

    this.provider = args.provider ?? createDockerProvider(name, spec.dockerHost, this);
    const childOpts = (extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions => ({
      parent: this,
      provider: this.provider,
      // Every object has a fixed name: a replacement must remove the old one first.
      deleteBeforeReplace: true,
      ...extra,
    });

    this.network = new docker.Network(`${name}-network`, networkObject(spec.network), childOpts());

    this.volumes = Object.fromEntries(
      VOLUME_KEYS.map((key) => {
        const volume = spec.volumes[key];
        return [key, new docker.Volume(`${name}-${key}`, volumeObject(volume), childOpts({ retainOnDelete: volume.retainOnDestroy }))];
      }),
    ) as Record<VolumeKey, docker.Volume>;

    const secretValues: Record<string, pulumi.Output<string>> = { postgresPassword: args.secrets.postgresPassword };
    this.postgres = this.createContainer(`${name}-postgres`, spec.postgres, secretValues, childOpts);
    this.caddy = this.createContainer(`${name}-caddy`, spec.caddy, secretValues, childOpts);
    this.endpoints = spec.endpoints;

    this.registerOutputs({
      network: this.network.name,
      postgres: this.postgres.name,
      caddy: this.caddy.name,
      publicHttpUrl: spec.endpoints.publicHttpUrl,
      publicGrpcAddress: spec.endpoints.publicGrpcAddress,
    });
  }

  private createContainer(
    resourceName: string,
    container: ContainerSpec,
    secretValues: Record<string, pulumi.Output<string>>,
    childOpts: (extra?: pulumi.CustomResourceOptions) => pulumi.CustomResourceOptions,
  ): docker.Container {
    const image = new docker.RemoteImage(
      `${resourceName}-image`,
      // keepLocally: another stack on the same engine may run the same image.
      { name: container.image, keepLocally: true },
      childOpts({ deleteBeforeReplace: false }),
    );
    const args: docker.ContainerArgs = containerObject<pulumi.Input<string>>(container, {
      image: image.imageId,
      network: this.network.name,
      volume: (key) => this.volumes[key].name,
      // The whole entry is a secret output: the value shows in no plan, state or log.
      secretEnv: (variable, secret) => {
        const value = secretValues[secret];
        if (!value) throw new Error(`No value for secret ${secret} (container env ${variable}): a bug in the caller`);
        return pulumi.secret(pulumi.interpolate`${variable}=${value}`);
      },
    });
    return new docker.Container(resourceName, args, childOpts());
  }
}

/** The Docker engine of the stack: `docker.host` (ssh:// works), else the environment's DOCKER_HOST. */
export function createDockerProvider(name: string, host: string | undefined, parent: pulumi.Resource): docker.Provider {
  return new docker.Provider(`${name}-docker`, host === undefined ? {} : { host }, { parent });
}
