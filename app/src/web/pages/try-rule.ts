import type { Rule } from '../../rules/model.js';
import type { RuleEvaluation } from '../../rules/evaluate.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, layout, type PageContext } from './layout.js';
import { conditionText } from './rule-text.js';
import { conditionSummary } from './rule-detail.js';

export type TryOutcome = { kind: 'evaluated'; evaluation: RuleEvaluation } | { kind: 'bad-payload'; message: string };

function shown(value: unknown): string {
  return value === undefined ? '(missing)' : JSON.stringify(value);
}

function resultBanner(outcome: TryOutcome): SafeHtml {
  if (outcome.kind === 'bad-payload') {
    return html`<div class="flash error" role="alert" id="try-result">The payload could not be read: ${outcome.message}</div>`;
  }
  const { evaluation } = outcome;
  if (evaluation.error) {
    return html`<div class="flash error" role="alert" id="try-result"><span class="errored">error</span>: the rule's evaluation failed, so it does not match.
      <div class="mono">${evaluation.error}</div></div>`;
  }
  return evaluation.matched
    ? html`<div class="flash success" role="status" id="try-result"><span class="matched">matched</span>: the rule matches this payload.</div>`
    : html`<div class="card" role="status" id="try-result"><span class="not-matched">not matched</span>: the rule does not match this payload.</div>`;
}

function traceTable(rule: Rule, evaluation: RuleEvaluation): SafeHtml {
  if (evaluation.trace.length === 0) return html``;
  return html`<h2>Trace</h2>
  <p class="hint">Each condition that was evaluated, in order; evaluation stops at the first group that matches or the first error.</p>
  <table><thead><tr><th>Where</th><th>Condition</th><th>Value found</th><th>Compared with</th><th>Outcome</th><th>Result</th></tr></thead>
  <tbody>${evaluation.trace.map((step) => {
    const condition = rule.orGroups[step.groupIndex]?.conditions[step.conditionIndex];
    return html`<tr>
      <td>group ${step.groupIndex + 1}, condition ${step.conditionIndex + 1}</td>
      <td><code>${condition ? conditionText(condition) : step.field}</code></td>
      <td><code>${step.resolvedField}</code> = <code>${shown(step.value)}</code>${step.valuesChecked > 1 && html` <span class="muted">(${step.valuesChecked} values checked)</span>`}</td>
      <td>${step.compareToField && html`<code>${step.compareToField}</code> = `}<code>${shown(step.compareTo)}</code></td>
      <td>${step.outcome}</td>
      <td class="${step.result === 'true' ? 'matched' : step.result === 'error' ? 'errored' : 'not-matched'}">${step.result}</td>
    </tr>`;
  })}</tbody></table>`;
}

export function tryRulePage(context: PageContext, rule: Rule, payloadText: string, outcome?: TryOutcome): SafeHtml {
  const base = `/rules/${encodeURIComponent(rule.ruleId)}`;
  return layout(`Try ${rule.name}`, 'rules', context, html`<h1>Try “${rule.name}” on a sample payload</h1>
  ${outcome && resultBanner(outcome)}
  ${outcome?.kind === 'evaluated' && traceTable(rule, outcome.evaluation)}
  <form method="post" action="${base}/try" class="card">
    ${csrfField(context.csrfToken)}
    <div class="field"><label for="payload">Event payload (JSON)</label>
      <textarea id="payload" name="payload" rows="12" spellcheck="false">${payloadText}</textarea>
      <div class="hint">Nothing is stored. The rule's sample rate is ignored here: it is always evaluated.</div></div>
    <div class="form-actions"><button type="submit" class="primary">Evaluate</button> <a href="${base}">Back to the rule</a></div>
  </form>
  <h2>Conditions</h2>
  ${conditionSummary(rule)}`);
}
