import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import { monitoringContainerObject } from './objects.js';
import { MONITORING_SERVICES, MONITORING_VOLUME_KEYS, type DockerMonitoringSpec, type MonitoringSecret, type MonitoringService, type MonitoringVolumeKey } from './plan.js';

export interface DockerMonitoringArgs {
  /** From planDockerMonitoring(); this component declares exactly it. */
  spec: DockerMonitoringSpec;
  provider: docker.Provider;
  /** The stack's network (the infrastructure's), so the containers come after it. */
  network: pulumi.Input<string>;
  /** Values of the containers' secretEnv, each a Pulumi secret. */
  secrets: Record<MonitoringSecret, pulumi.Output<string>>;
}

/**
 * The monitoring of a Docker stack (monitoring.enabled): Prometheus, Alertmanager, Grafana,
 * node-exporter and postgres_exporter on the stack's network, only Grafana published, their data
 * in volumes that outlive a redeploy (removed with an ephemeral stack, as the infrastructure's).
 * Releases tell it which slot to scrape and write their deploy metrics (monitoring/release-port.ts).
 */
export class DockerMonitoring extends pulumi.ComponentResource {
  readonly volumes: Record<MonitoringVolumeKey, docker.Volume>;
  readonly containers: Record<MonitoringService, docker.Container>;
  readonly grafanaUrl: pulumi.Output<string>;

  constructor(name: string, args: DockerMonitoringArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('trapperkeeper:docker:Monitoring', name, {}, opts);
    const { spec } = args;
    const childOpts = (extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions => ({
      parent: this,
      provider: args.provider,
      // Fixed names: a replacement must remove the old object first.
      deleteBeforeReplace: true,
      ...extra,
    });

    this.volumes = Object.fromEntries(
      MONITORING_VOLUME_KEYS.map((key) => {
        const volume = spec.volumes[key];
        const labels = Object.entries(volume.labels).map(([label, value]) => ({ label, value }));
        return [key, new docker.Volume(`${name}-${key}`, { name: volume.name, labels }, childOpts({ retainOnDelete: volume.retainOnDestroy }))];
      }),
    ) as Record<MonitoringVolumeKey, docker.Volume>;

    this.containers = Object.fromEntries(
      MONITORING_SERVICES.map((service) => {
        const container = spec.containers[service];
        const image = new docker.RemoteImage(
          `${name}-${service}-image`,
          // keepLocally: another stack on the same engine may run the same image.
          { name: container.image, keepLocally: true },
          childOpts({ deleteBeforeReplace: false }),
        );
        const object = monitoringContainerObject<pulumi.Input<string>>(container, {
          image: image.imageId,
          network: args.network,
          volume: (key) => this.volumes[key].name,
          // The whole entry is a secret output: the value shows in no plan, state or log.
          secretEnv: (variable, secret) => pulumi.secret(pulumi.interpolate`${variable}=${args.secrets[secret]}`),
        });
        return [service, new docker.Container(`${name}-${service}`, object, childOpts())];
      }),
    ) as Record<MonitoringService, docker.Container>;

    this.grafanaUrl = pulumi.output(spec.grafanaUrl);
    this.registerOutputs({ grafanaUrl: this.grafanaUrl, prometheus: this.containers.prometheus.name });
  }
}
