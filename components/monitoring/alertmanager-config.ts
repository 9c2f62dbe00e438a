import { posix } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { ALERTS } from './alert-rules.js';
import { DEFAULT_NOTIFY_TIMING, type NotifySettings } from './settings.js';

export const ALERTMANAGER_FILES = { config: 'alertmanager.yml' } as const;

/** The one receiver every alert goes to; its integrations are the configured sinks. */
export const RECEIVER_NAME = 'trapperkeeper';

/** Alerts are grouped into one notification per alert name and severity. */
export const GROUP_BY = ['alertname', 'severity'] as const;

/**
 * Alerts that say nothing new while another fires: with the database down every request fails
 * and nothing is ingested, so the database alert alone is sent. `equal` keeps it to one stack.
 */
export const INHIBITIONS = [
  { source: ALERTS.databaseUnreachable, targets: [ALERTS.errorRateHigh, ALERTS.ingestionStalled], equal: ['stack'] },
] as const;

// ntfy (2.10 and later) fills these Go templates from the JSON body Alertmanager posts, so a
// phone shows the alert's summary and description instead of raw JSON.
const NTFY_TITLE = '[{{.status}}] {{.groupLabels.alertname}} ({{.groupLabels.severity}})';
const NTFY_MESSAGE = '{{range .alerts}}{{.status}}: {{.annotations.summary}}\n{{.annotations.description}}\n\n{{end}}';

/** The ntfy topic URL with the templates that format Alertmanager's webhook body. */
export function ntfyWebhookUrl(topicUrl: string): string {
  const url = new URL(topicUrl);
  url.searchParams.set('tpl', 'yes');
  url.searchParams.set('t', NTFY_TITLE);
  url.searchParams.set('m', NTFY_MESSAGE);
  return url.toString();
}

export type AlertmanagerConfigInput = Pick<NotifySettings, 'webhookUrl' | 'ntfyUrl'> & Partial<Pick<NotifySettings, 'groupWait' | 'groupInterval' | 'repeatInterval'>>;

/** alertmanager.yml: every alert to the webhook and ntfy (those configured), resolved ones too. */
export function renderAlertmanagerConfig(input: AlertmanagerConfigInput): string {
  const webhooks = [
    ...(input.webhookUrl ? [input.webhookUrl] : []),
    ...(input.ntfyUrl ? [ntfyWebhookUrl(input.ntfyUrl)] : []),
  ].map((url) => ({ url, send_resolved: true }));
  const config = {
    route: {
      receiver: RECEIVER_NAME,
      group_by: [...GROUP_BY],
      group_wait: input.groupWait ?? DEFAULT_NOTIFY_TIMING.groupWait,
      group_interval: input.groupInterval ?? DEFAULT_NOTIFY_TIMING.groupInterval,
      repeat_interval: input.repeatInterval ?? DEFAULT_NOTIFY_TIMING.repeatInterval,
    },
    receivers: [{ name: RECEIVER_NAME, ...(webhooks.length > 0 ? { webhook_configs: webhooks } : {}) }],
    inhibit_rules: INHIBITIONS.map((rule) => ({
      source_matchers: [`alertname="${rule.source}"`],
      target_matchers: [`alertname=~"${rule.targets.join('|')}"`],
      equal: [...rule.equal],
    })),
  };
  return toYaml(config, { lineWidth: 0 });
}

export interface AlertmanagerArgsInput {
  configDir: string;
  /** Silences and the notification log (a volume, so silences survive a redeploy). */
  dataDir: string;
  listenAddress: string;
}

/** Alertmanager's command line: one instance, so its cluster (gossip) listener is off. */
export function alertmanagerArgs(input: AlertmanagerArgsInput): string[] {
  return [
    `--config.file=${posix.join(input.configDir, ALERTMANAGER_FILES.config)}`,
    `--storage.path=${input.dataDir}`,
    `--web.listen-address=${input.listenAddress}`,
    '--cluster.listen-address=',
  ];
}
