import type { DeployEventLevel } from '../events/deploy-events.js';
import type { SinkRequest } from './deliver.js';
import { describeNotification, isRollback, notificationLine, type Notification } from './notification.js';
import { USER_AGENT } from './webhook.js';

const LEVEL_EMOJI: Record<DeployEventLevel, string> = { info: ':white_check_mark:', warn: ':warning:', error: ':rotating_light:' };

/** Slack's mrkdwn needs only these three escaped. */
function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export interface SlackMessage {
  /** The notification text (and what clients without blocks show). */
  text: string;
  blocks: unknown[];
}

/**
 * A Slack incoming-webhook message: `text` for notifications and clients that only read text
 * (Mattermost, Rocket.Chat and others accept the same payload), `blocks` for the layout.
 */
export function slackMessage(notification: Notification): SlackMessage {
  const text = describeNotification(notification);
  const emoji =
    notification.level === 'info' && isRollback(notification) ? ':leftwards_arrow_with_hook:' : notification.event === 'release.started' ? ':rocket:' : LEVEL_EMOJI[notification.level];
  const fields = text.details.map(([label, value]) => `*${escape(label)}*  ${label === 'release' ? `\`${escape(value)}\`` : escape(value)}`);
  return {
    text: escape(`${text.title}: ${notificationLine(text)}`),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${emoji} *${escape(text.title)}*\n${fields.join('\n')}` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: escape(`deployment ${notification.deploymentId} · #${notification.sequence} · ${notification.timestamp}`) }] },
    ],
  };
}

export function slackRequest(notification: Notification): SinkRequest {
  return { body: JSON.stringify(slackMessage(notification)), headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT } };
}
