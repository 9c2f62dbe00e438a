import type { BuildInfo } from '../../metrics/registry.js';
import { html, type SafeHtml } from '../html.js';
import { layout, type PageContext } from './layout.js';

export interface StatusFacts {
  build: BuildInfo;
  schemaVersion: string | null;
  pendingMigrations: string[] | null;
  dialect: string;
  redactedUrl: string;
  databaseReachable: boolean;
}

export function statusPage(context: PageContext, facts: StatusFacts): SafeHtml {
  return layout('Status', 'status', context, html`<h1>Status</h1>
  <div class="card"><h2>Build</h2><dl class="facts">
    <dt>Version</dt><dd id="version">${facts.build.version}</dd>
    <dt>Commit</dt><dd class="mono">${facts.build.commit}</dd>
    <dt>Build date</dt><dd>${facts.build.buildDate}</dd>
  </dl></div>
  <div class="card"><h2>Database</h2><dl class="facts">
    <dt>Backend</dt><dd id="backend">${facts.dialect}</dd>
    <dt>URL</dt><dd class="mono" id="database-url">${facts.redactedUrl}</dd>
    <dt>Reachable</dt><dd>${facts.databaseReachable ? html`<span class="badge active">yes</span>` : html`<span class="badge disabled">no</span>`}</dd>
    <dt>Schema version</dt><dd class="mono" id="schema-version">${facts.schemaVersion ?? 'not migrated'}</dd>
    <dt>Pending migrations</dt><dd>${facts.pendingMigrations === null
      ? html`<span class="muted">unknown</span>`
      : facts.pendingMigrations.length === 0 ? 'none' : html`<span class="badge disabled">${facts.pendingMigrations.join(', ')}</span>`}</dd>
  </dl></div>`);
}
