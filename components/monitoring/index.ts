export {
  monitoringFiles,
  nodeExporterArgs,
  postgresExporterArgs,
  DEFAULT_MONITORING_IMAGES,
  MONITORING_PORTS,
  MONITORING_PATHS,
  type MonitoringFiles,
  type MonitoringFilesInput,
  type MonitoringAddresses,
  type MonitoringPaths,
  type MonitoringListen,
  type ServiceFiles,
} from './monitoring-files.js';
export {
  monitoringSectionSchema,
  MONITORING_CONFIG_EXAMPLES,
  DEFAULT_MONITORING_SECTION,
  DEFAULT_RETENTION,
  DEFAULT_SCRAPE_INTERVAL,
  DEFAULT_EVALUATION_INTERVAL,
  DEFAULT_ALERT_THRESHOLDS,
  DEFAULT_NOTIFY_TIMING,
  type MonitoringSection,
  type AlertThresholds,
  type NotifySettings,
} from './settings.js';
export { renderPrometheusConfig, renderAppScrapeTargets, prometheusArgs, PROMETHEUS_FILES, type AppScrapeTarget } from './prometheus-config.js';
export { renderAlertRules, alertDefinitions, ALERTS, PRODUCTION_ALERT_TIMING, type AlertTiming, type AlertName } from './alert-rules.js';
export { renderAlertmanagerConfig, alertmanagerArgs, ALERTMANAGER_FILES } from './alertmanager-config.js';
export {
  DEPLOY_METRICS,
  DEPLOY_METRICS_FILE,
  DEPLOY_PHASES,
  initialDeployMetrics,
  recordReleaseLive,
  recordReleaseFailed,
  renderDeployMetrics,
  parseDeployMetrics,
  type DeployMetricsState,
  type ReleaseLive,
  type ReleaseFailed,
} from './deploy-metrics.js';
export { APP_METRICS, APP_SCRAPE_JOBS, EXPORTER_JOBS } from './app-metrics.js';
export {
  renderGrafanaProvisioning,
  grafanaEnv,
  dashboardFiles,
  GRAFANA_DATASOURCE_UID,
  GRAFANA_ADMIN_PASSWORD_ENV,
  GRAFANA_PATHS,
} from './grafana/provisioning.js';
