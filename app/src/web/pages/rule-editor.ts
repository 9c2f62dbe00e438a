import type { Rule } from '../../rules/model.js';
import { attrIf, html, type SafeHtml } from '../html.js';
import {
  ACTIONS, conditionField, FIELD_TYPES, ON_COERCION_FAIL, ON_MISSING_FIELD, OPERATORS, RULE_STATES,
  type ConditionRow, type FormIssue, type RuleFormState,
} from '../rule-form.js';
import { csrfField, layout, type PageContext } from './layout.js';

export type EditorMode = { kind: 'create' } | { kind: 'edit'; rule: Rule };

const PART_LABELS: Record<string, string> = {
  path: 'field path', op: 'operator', fieldType: 'field type', valueSource: 'compare with', value: 'value',
  onMissingField: 'if missing', onCoercionFail: 'if wrong type',
};
const TOP_LABELS: Record<string, string> = {
  name: 'Name', description: 'Description', state: 'State', action: 'Action', sampleRate: 'Sample rate',
  scopeTags: 'Scope tags', groups: 'Conditions', '': 'Rule',
};

/** Where an issue sits, in words: "Group 1, condition 2, value". */
export function issueLocation(field: string): string {
  const condition = /^g(\d+)\.c(\d+)(?:\.(\w+))?$/.exec(field);
  if (condition) {
    const part = condition[3] ? `, ${PART_LABELS[condition[3]] ?? condition[3]}` : '';
    return `Group ${Number(condition[1]) + 1}, condition ${Number(condition[2]) + 1}${part}`;
  }
  const group = /^g(\d+)$/.exec(field);
  if (group) return `Group ${Number(group[1]) + 1}`;
  return TOP_LABELS[field] ?? field;
}

function select<T extends string>(name: string, id: string, options: readonly { value: T; label: string }[], current: T, invalid: boolean): SafeHtml {
  return html`<select name="${name}" id="${id}" class="${invalid ? 'invalid' : ''}">${options.map(
    (option) => html`<option value="${option.value}"${attrIf(option.value === current, 'selected')}>${option.label}</option>`,
  )}</select>`;
}

/**
 * The issues by form field, looked up once per field: scanning the whole list for every row
 * made a post with thousands of rows (and as many issues) take quadratic time.
 */
class IssuesByField {
  private readonly byField = new Map<string, FormIssue[]>();

  constructor(readonly all: FormIssue[]) {
    for (const issue of all) {
      const list = this.byField.get(issue.field);
      if (list) list.push(issue);
      else this.byField.set(issue.field, [issue]);
    }
  }

  of(field: string): FormIssue[] {
    return this.byField.get(field) ?? [];
  }

  has(field: string): boolean {
    return this.byField.has(field);
  }
}

function messagesFor(issues: IssuesByField, field: string): SafeHtml {
  return html`${issues.of(field).map((issue) => html`<div class="error-text">${issue.message}</div>`)}`;
}

function conditionRow(row: ConditionRow, group: number, index: number, issues: IssuesByField): SafeHtml {
  const name = (part: keyof ConditionRow) => conditionField(group, index, part);
  const id = (part: keyof ConditionRow) => `g${group}-c${index}-${part}`;
  const bad = (part: keyof ConditionRow) => issues.has(name(part));
  const cell = (part: keyof ConditionRow, control: SafeHtml) => html`<div>${control}${messagesFor(issues, name(part))}</div>`;
  return html`<div class="cond" data-condition="${group}.${index}">
    ${index > 0 && html`<div class="and">AND</div>`}
    ${cell('path', html`<input type="text" name="${name('path')}" id="${id('path')}" value="${row.path}" placeholder="user.items[*].price" aria-label="Field path" class="${bad('path') ? 'invalid' : ''}">`)}
    ${cell('op', select(name('op'), id('op'), OPERATORS, row.op, bad('op')))}
    ${cell('fieldType', select(name('fieldType'), id('fieldType'), FIELD_TYPES, row.fieldType, bad('fieldType')))}
    ${cell('valueSource', select(name('valueSource'), id('valueSource'), [
      { value: 'literal', label: 'value' },
      { value: 'field', label: 'other field' },
    ] as const, row.valueSource, bad('valueSource')))}
    ${cell('value', html`<input type="text" name="${name('value')}" id="${id('value')}" value="${row.value}" placeholder="${row.valueSource === 'field' ? 'other.field.path' : 'value, or a, b, c for is one of'}" aria-label="Value" class="${bad('value') ? 'invalid' : ''}">`)}
    ${cell('onMissingField', select(name('onMissingField'), id('onMissingField'), ON_MISSING_FIELD, row.onMissingField, bad('onMissingField')))}
    ${cell('onCoercionFail', select(name('onCoercionFail'), id('onCoercionFail'), ON_COERCION_FAIL, row.onCoercionFail, bad('onCoercionFail')))}
    <div><button type="submit" name="intent" value="remove-condition:${group}:${index}" class="small" title="Remove this condition">✕</button></div>
    ${issues.has(conditionField(group, index, '')) && html`<div class="row-error">${messagesFor(issues, conditionField(group, index, ''))}</div>`}
  </div>`;
}

function groupBlock(rows: ConditionRow[], group: number, issues: IssuesByField): SafeHtml {
  return html`${group > 0 && html`<div class="or">OR</div>`}
  <fieldset class="group" data-group="${group}">
    <input type="hidden" name="g${group}" value="1">
    <div class="group-head"><span>Group ${group + 1}: all of these must hold</span>
      <button type="submit" name="intent" value="remove-group:${group}" class="small">Remove group</button></div>
    ${messagesFor(issues, `g${group}`)}
    ${rows.length > 0 && html`<div class="cond-head"><span>Field path</span><span>Operator</span><span>Type</span><span>Compare with</span><span>Value</span><span>If missing</span><span>If wrong type</span><span></span></div>`}
    ${rows.map((row, index) => conditionRow(row, group, index, issues))}
    <div class="row-actions"><button type="submit" name="intent" value="add-condition:${group}" class="small">+ Add condition</button></div>
  </fieldset>`;
}

function topField(label: string, field: string, control: SafeHtml, issues: IssuesByField, hint?: string): SafeHtml {
  return html`<div class="field"><label for="${field}">${label}</label>${control}
    ${hint && html`<div class="hint">${hint}</div>`}${messagesFor(issues, field)}</div>`;
}

export function ruleEditorPage(context: PageContext, mode: EditorMode, form: RuleFormState, issueList: FormIssue[]): SafeHtml {
  const issues = new IssuesByField(issueList);
  const bad = (field: string) => (issues.has(field) ? 'invalid' : '');
  const action = mode.kind === 'create' ? '/rules/new' : `/rules/${encodeURIComponent(mode.rule.ruleId)}/edit`;
  const title = mode.kind === 'create' ? 'New rule' : `Edit rule “${mode.rule.name}”`;
  return layout(title, 'rules', context, html`<h1>${title}</h1>
  ${mode.kind === 'edit' && html`<div class="card muted">Saving an edit creates a <strong>new version with a new id</strong>;
    the current version (id <code>${mode.rule.ruleId}</code>) is retired and no longer served to sensors.</div>`}
  ${issueList.length > 0 && html`<div class="flash error" role="alert"><strong>The rule was not saved.</strong> Fix ${issueList.length === 1 ? 'this problem' : `these ${issueList.length} problems`}:
    <ul>${issueList.map((issue) => html`<li>${issueLocation(issue.field)}: ${issue.message}</li>`)}</ul></div>`}
  <form method="post" action="${action}" class="card" novalidate>
    ${csrfField(context.csrfToken)}
    <button type="submit" name="intent" value="save" class="default-submit" tabindex="-1" aria-hidden="true">Save</button>
    <div class="grid2">
      ${topField('Name', 'name', html`<input type="text" id="name" name="name" value="${form.name}" maxlength="200" class="${bad('name')}">`, issues)}
      ${topField('Scope tags', 'scopeTags', html`<input type="text" id="scopeTags" name="scopeTags" value="${form.scopeTags}" placeholder="env=prod, team=payments" class="${bad('scopeTags')}">`, issues,
        'Served only to sensors whose tags match all of these; leave empty to serve every sensor.')}
    </div>
    ${topField('Description', 'description', html`<textarea id="description" name="description" rows="2" class="short ${bad('description')}">${form.description}</textarea>`, issues)}
    <div class="grid4">
      ${topField('State', 'state', select('state', 'state', RULE_STATES, form.state, bad('state') !== ''), issues)}
      ${topField('Action', 'action', select('action', 'action', ACTIONS, form.action, bad('action') !== ''), issues)}
      ${topField('Sample rate', 'sampleRate', html`<input type="text" id="sampleRate" name="sampleRate" value="${form.sampleRate}" inputmode="decimal" class="${bad('sampleRate')}">`, issues,
        '0 to 1: the share of events the rule is evaluated on.')}
    </div>
    <h2>Conditions</h2>
    <p class="hint">The rule matches when any group matches; a group matches when all its conditions hold.
      Paths: <code>user.name</code>, <code>items[0].sku</code>, <code>items[*].price</code> (any element), <code>headers["content-type"]</code>.</p>
    ${messagesFor(issues, 'groups')}
    ${form.groups.map((rows, group) => groupBlock(rows, group, issues))}
    <div class="row-actions"><button type="submit" name="intent" value="add-group" class="small">+ Add OR group</button></div>
    <div class="form-actions">
      <button type="submit" name="intent" value="save" class="primary">${mode.kind === 'create' ? 'Create rule' : 'Save as new version'}</button>
      <a href="${mode.kind === 'create' ? '/rules' : `/rules/${encodeURIComponent(mode.rule.ruleId)}`}">Cancel</a>
    </div>
  </form>`);
}
