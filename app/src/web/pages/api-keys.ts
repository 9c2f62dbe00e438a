import type { ApiKeyRecord } from '../../db/api-keys.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, layout, postButton, type PageContext } from './layout.js';

function when(iso: string | null, never = 'never'): SafeHtml {
  return iso ? html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>` : html`<span class="muted">${never}</span>`;
}

export function apiKeysPage(context: PageContext, keys: ApiKeyRecord[], form: { name: string; error?: string }): SafeHtml {
  const rows = keys.map((key) => html`<tr data-key-id="${key.id}">
    <td class="nowrap">${key.name}</td>
    <td class="mono">${key.id}</td>
    <td class="mono">${key.secretId}</td>
    <td class="nowrap">${when(key.createdAt)}</td>
    <td class="nowrap">${when(key.lastUsedAt)}</td>
    <td>${key.revokedAt ? html`<span class="badge disabled">revoked</span> ${when(key.revokedAt)}` : html`<span class="badge active">active</span>`}</td>
    <td class="actions">${!key.revokedAt && postButton(`/api-keys/${encodeURIComponent(key.id)}/revoke`, 'Revoke', context.csrfToken, { className: 'small danger' })}</td>
  </tr>`);
  return layout('API keys', 'api-keys', context, html`<h1>Sensor API keys</h1>
  <form method="post" action="/api-keys" class="card">
    ${csrfField(context.csrfToken)}
    <div class="field"><label for="key-name">New key for</label>
      <input type="text" id="key-name" name="name" value="${form.name}" placeholder="checkout-service sensor" class="${form.error ? 'invalid' : ''}">
      ${form.error && html`<div class="error-text">${form.error}</div>`}
      <div class="hint">Sensors send the key in the <code>x-api-key</code> gRPC metadata. It is shown once, right after it is created.</div></div>
    <div class="form-actions"><button type="submit" class="primary">Create key</button></div>
  </form>
  ${keys.length === 0
    ? html`<div class="card muted">No API keys yet.</div>`
    : html`<table><thead><tr><th>Name</th><th>Id</th><th>Secret id</th><th>Created</th><th>Last used</th><th>Status</th><th></th></tr></thead>
    <tbody>${rows}</tbody></table>`}`);
}
