import type { RecentEvent } from '../../db/events.js';
import { html, type SafeHtml } from '../html.js';
import { layout, type PageContext } from './layout.js';

/** Payloads may be up to 1 MiB each; the list shows the start of each so the page stays light. */
export const PAYLOAD_PREVIEW_CHARS = 8_000;

function payloadPreview(text: string): string {
  let pretty = text;
  try {
    pretty = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // stored payloads are JSON; show anything else as it is
  }
  if (pretty.length <= PAYLOAD_PREVIEW_CHARS) return pretty;
  return `${pretty.slice(0, PAYLOAD_PREVIEW_CHARS)}\n… (${pretty.length - PAYLOAD_PREVIEW_CHARS} more characters not shown)`;
}

function matchList(event: RecentEvent): SafeHtml {
  if (event.matches.length === 0) return html`<span class="muted">none</span>`;
  return html`${event.matches.map((match) => html`<div>
    <a href="/rules/${encodeURIComponent(match.ruleId)}">${match.ruleName}</a>
    <span class="badge">${match.action.replace('ACTION_', '').toLowerCase()}</span>
    ${match.error && html`<div class="error-text">error: ${match.error}</div>`}</div>`)}`;
}

export function eventsPage(context: PageContext, events: RecentEvent[], limit: number): SafeHtml {
  const rows = events.map((event) => html`<tr>
    <td class="mono">${event.eventId}</td>
    <td class="nowrap">${event.sensorId || html`<span class="muted">unnamed</span>`}</td>
    <td class="nowrap"><time datetime="${event.receivedAt}">${event.receivedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time></td>
    <td>${Object.entries(event.metadata).map(([key, value]) => html`<span class="tag">${key}=${value}</span>`)}</td>
    <td>${matchList(event)}</td>
    <td><details><summary>payload</summary><pre>${payloadPreview(event.payload)}</pre></details></td>
  </tr>`);
  return layout('Events', 'events', context, html`<h1>Recent events</h1>
  <p class="muted">The ${limit} most recent events reported by sensors, newest first, with the rules they matched.</p>
  ${events.length === 0
    ? html`<div class="card muted">No events reported yet.</div>`
    : html`<table><thead><tr><th>Event id</th><th>Sensor</th><th>Received</th><th>Metadata</th><th>Matched rules</th><th>Payload</th></tr></thead>
    <tbody>${rows}</tbody></table>`}`);
}
