/**
 * Images of the monitoring services. The versions are the ones the tests run (Debian bookworm's
 * packages of the same upstream releases), so what is proven is what is deployed; Grafana is not
 * in Debian, its files are checked against its documented format.
 */
export const DEFAULT_MONITORING_IMAGES = {
  prometheus: 'prom/prometheus:v2.42.0',
  alertmanager: 'prom/alertmanager:v0.25.0',
  grafana: 'grafana/grafana-oss:11.1.0',
  nodeExporter: 'prom/node-exporter:v1.5.0',
  postgresExporter: 'quay.io/prometheuscommunity/postgres-exporter:v0.11.1',
  cadvisor: 'gcr.io/cadvisor/cadvisor:v0.47.2',
} as const;
