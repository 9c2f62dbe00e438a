import type { DeployEventName } from '../events/deploy-events.js';
import type { SinkRequest } from './deliver.js';
import { describeNotification, isRollback, notificationLine, type Notification } from './notification.js';
import { USER_AGENT } from './webhook.js';

/** ntfy's priorities: 1 min, 2 low, 3 default, 4 high, 5 urgent. */
export type NtfyPriority = 1 | 2 | 3 | 4 | 5;

/**
 * How each event shows on a phone: failures high, outcomes default, steps low. Tags are ntfy's
 * emoji short codes (shown as an icon before the title).
 */
export const NTFY_STYLE: Partial<Record<DeployEventName, { priority: NtfyPriority; tags: string[] }>> = {
  'release.started': { priority: 2, tags: ['rocket'] },
  'snapshot.taken': { priority: 2, tags: ['floppy_disk'] },
  'snapshot.failed': { priority: 4, tags: ['x'] },
  migrated: { priority: 2, tags: ['card_file_box'] },
  promoted: { priority: 3, tags: ['arrows_counterclockwise'] },
  'release.succeeded': { priority: 3, tags: ['white_check_mark'] },
  'release.failed': { priority: 4, tags: ['rotating_light'] },
  'rolled-back': { priority: 4, tags: ['leftwards_arrow_with_hook'] },
  'lock.waiting': { priority: 3, tags: ['hourglass'] },
  'lock.broken': { priority: 4, tags: ['unlock'] },
};

/** Priority and tags of a notification: its event's style (a rollback's outcome as a rollback), raised to high for any warning or error. */
export function ntfyStyle(notification: Pick<Notification, 'event' | 'level' | 'metadata'>): { priority: NtfyPriority; tags: string[] } {
  const event = notification.event === 'release.succeeded' && isRollback(notification) ? 'rolled-back' : notification.event;
  const style = NTFY_STYLE[event] ?? { priority: 3, tags: [] };
  if (notification.level === 'info') return { priority: style.priority, tags: [...style.tags] };
  const marker = notification.level === 'error' ? 'x' : 'warning';
  return { priority: Math.max(style.priority, 4) as NtfyPriority, tags: style.tags.includes(marker) ? [...style.tags] : [...style.tags, marker] };
}

/** Header values must be printable ASCII in Node; anything else would fail the request. */
function headerText(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

/** A publish to the topic URL: the message in the body, title, priority and tags as ntfy's headers. */
export function ntfyRequest(notification: Notification, token?: string): SinkRequest {
  const text = describeNotification(notification);
  const { priority, tags } = ntfyStyle(notification);
  return {
    body: notificationLine(text),
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'user-agent': USER_AGENT,
      title: headerText(text.title),
      priority: String(priority),
      ...(tags.length > 0 ? { tags: tags.join(',') } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
  };
}
