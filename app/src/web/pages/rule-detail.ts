import type { Rule } from '../../rules/model.js';
import { html, type SafeHtml } from '../html.js';
import { layout, type PageContext } from './layout.js';
import { actionLabel, conditionPolicies, conditionText } from './rule-text.js';
import { ruleStateButtons, scopeTagList, stateBadge } from './rules-list.js';

/** The rule's conditions as "(a AND b) OR (c)" blocks. */
export function conditionSummary(rule: Pick<Rule, 'orGroups'>): SafeHtml {
  return html`${rule.orGroups.map((group, index) => html`${index > 0 && html`<div class="or">OR</div>`}
    <div class="group"><div class="group-head"><span>Group ${index + 1}: all of</span></div>
      <ul class="trace">${group.conditions.map((condition) => html`<li><code>${conditionText(condition)}</code>
        <span class="muted">(${conditionPolicies(condition)})</span></li>`)}</ul></div>`)}`;
}

export function ruleDetailPage(context: PageContext, rule: Rule): SafeHtml {
  const base = `/rules/${encodeURIComponent(rule.ruleId)}`;
  return layout(rule.name, 'rules', context, html`<div class="toolbar"><h1>${rule.name} ${stateBadge(rule)}</h1>
    <div class="actions"><a class="button" href="${base}/edit">Edit</a> <a class="button" href="${base}/try">Try on a payload</a></div></div>
  <div class="card">
    ${rule.description && html`<p>${rule.description}</p>`}
    <dl class="facts">
      <dt>Id</dt><dd class="mono" id="rule-id">${rule.ruleId}</dd>
      <dt>Action</dt><dd>${actionLabel(rule.action)}</dd>
      <dt>Sample rate</dt><dd>${rule.sampleRate}</dd>
      <dt>Scope tags</dt><dd>${scopeTagList(rule)}</dd>
      <dt>Created</dt><dd>${rule.createdAt}</dd>
    </dl>
    <div class="form-actions">${ruleStateButtons(rule, context.csrfToken)}</div>
  </div>
  <h2>Conditions</h2>
  ${conditionSummary(rule)}`);
}
