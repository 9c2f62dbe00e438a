import type { Rule } from '../../rules/model.js';
import { html, type SafeHtml } from '../html.js';
import { layout, postButton, type PageContext } from './layout.js';
import { actionLabel, stateLabel } from './rule-text.js';

export function stateBadge(rule: Pick<Rule, 'state'>): SafeHtml {
  const label = stateLabel(rule.state);
  return html`<span class="badge ${label}">${label}</span>`;
}

export function scopeTagList(rule: Pick<Rule, 'scopeTags'>): SafeHtml {
  if (rule.scopeTags.length === 0) return html`<span class="muted">all sensors</span>`;
  return html`${rule.scopeTags.map((tag) => html`<span class="tag">${tag.key}=${tag.value}</span>`)}`;
}

/** Activate/disable/delete buttons for one rule (POST forms). */
export function ruleStateButtons(rule: Rule, csrfToken: string): SafeHtml {
  const base = `/rules/${encodeURIComponent(rule.ruleId)}`;
  return html`${rule.state !== 'RULE_STATE_ACTIVE' && postButton(`${base}/activate`, 'Activate', csrfToken)}
    ${rule.state === 'RULE_STATE_ACTIVE' && postButton(`${base}/disable`, 'Disable', csrfToken)}
    ${postButton(`${base}/delete`, 'Delete', csrfToken, { className: 'small danger' })}`;
}

export function rulesListPage(context: PageContext, rules: Rule[]): SafeHtml {
  const rows = rules.map((rule) => {
    const base = `/rules/${encodeURIComponent(rule.ruleId)}`;
    return html`<tr data-rule-id="${rule.ruleId}">
      <td><a href="${base}">${rule.name}</a>${rule.description && html`<div class="muted">${rule.description}</div>`}</td>
      <td>${stateBadge(rule)}</td>
      <td>${actionLabel(rule.action)}</td>
      <td>${rule.sampleRate}</td>
      <td>${scopeTagList(rule)}</td>
      <td class="actions"><a class="button small" href="${base}/edit">Edit</a>
        <a class="button small" href="${base}/try">Try</a>
        ${ruleStateButtons(rule, context.csrfToken)}</td>
    </tr>`;
  });
  return layout('Rules', 'rules', context, html`<div class="toolbar"><h1>Rules</h1>
    <a class="button primary" href="/rules/new">New rule</a></div>
  ${rules.length === 0
    ? html`<div class="card muted">No rules yet. Create one with “New rule”; sensors receive it once it is active.</div>`
    : html`<table>
    <thead><tr><th>Name</th><th>State</th><th>Action</th><th>Sample rate</th><th>Scope tags</th><th></th></tr></thead>
    <tbody>${rows}</tbody>
  </table>`}`);
}
