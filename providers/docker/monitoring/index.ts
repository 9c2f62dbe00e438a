export { DockerMonitoring, type DockerMonitoringArgs } from './component.js';
export {
  planDockerMonitoring,
  planMonitoringRelease,
  postgresExporterDsn,
  MONITORED_APP_ENV,
  MONITORING_SERVICES,
  MONITORING_VOLUME_KEYS,
  type DockerMonitoringSpec,
  type DockerMonitoringRelease,
  type MonitoringContainerSpec,
  type MonitoringService,
  type MonitoringVolumeKey,
} from './plan.js';
export { monitoringContainerObject, type MonitoringContainerObject } from './objects.js';
export { dockerMonitoringPort } from './release-port.js';
