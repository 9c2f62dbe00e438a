/**
 * Rules as code: a YAML (or JSON) file declaring a tenant's rules, matched to the server's
 * rules by name (see apply-plan.ts).
 *
 *   rules:
 *     - name: temperature-too-high
 *       state: RULE_STATE_ACTIVE
 *       action: ACTION_OBSERVE
 *       orGroups:
 *         - conditions:
 *             - fieldPath: { segments: [ { fieldName: temperature } ] }
 *               op: OPERATOR_GT
 *               fieldType: FIELD_TYPE_NUMERIC
 *               value: { numericValue: 100 }
 *
 * Each entry is a rule as parseRuleInput takes it (proto3 JSON mapping plus description,
 * without ruleId/createdAt); left-out fields take RULE_DEFAULTS. A bare list of rules is
 * accepted as the whole document too. Names must be unique within a file. A `.json` file is
 * read as JSON, anything else as YAML (which also reads JSON).
 */
import { Document, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Node } from 'yaml';
import { UserError } from '../errors.js';
import type { Condition, OrGroup, Rule } from './model.js';
import { childPath, describeJsonType, isJsonObject, type ValidationIssue } from './proto-json.js';
import { RULE_DEFAULTS } from './rule-defaults.js';
import { byRuleName, canonicalRule } from './canonical-rule.js';
import { formatIssue, parseRuleInput, RuleValidationError, type NewRule } from './validate.js';

export class RulesFileError extends UserError {
  constructor(
    readonly fileName: string,
    /** Paths start at the rule: `rules[2].orGroups[0].conditions[1].value`. */
    readonly issues: ValidationIssue[],
    lines: string[],
  ) {
    super(
      lines.length === 1 ? `${fileName}: ${lines[0]}` : `${fileName} has ${lines.length} problems:\n${lines.map((l) => `  - ${l}`).join('\n')}`,
      `Edit ${fileName} and correct what is listed. Each rule is the proto3 JSON mapping of `
        + 'trapperkeeper.sensor.v1.Rule plus description, under a top-level "rules:" list.',
    );
    this.name = 'RulesFileError';
  }
}

interface LoadedDocument {
  data: unknown;
  /** 1-based line where the rule at `index` starts, when known. */
  lineOf: (index: number, bareList: boolean) => number | undefined;
}

function fail(fileName: string, message: string): never {
  throw new RulesFileError(fileName, [{ path: '', message }], [message]);
}

function readJson(text: string, fileName: string): LoadedDocument {
  try {
    return { data: JSON.parse(text) as unknown, lineOf: () => undefined };
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    const where = position ? ` (line ${text.slice(0, Number(position[1])).split('\n').length})` : '';
    return fail(fileName, `is not valid JSON${where}: ${message}`);
  }
}

function readYaml(text: string, fileName: string): LoadedDocument {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  if (doc.errors.length > 0) {
    fail(fileName, `is not valid YAML: ${doc.errors.map((e) => (e.message.split('\n')[0] ?? '').replace(/:$/, '')).join('; ')}`);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    fail(fileName, `cannot be read: ${(error as Error).message}`);
  }
  return {
    data,
    lineOf: (index, bareList) => {
      const node = doc.getIn(bareList ? [index] : ['rules', index], true) as Node | undefined;
      return node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
    },
  };
}

export function parseRulesFile(text: string, fileName: string): NewRule[] {
  const doc = fileName.toLowerCase().endsWith('.json') ? readJson(text, fileName) : readYaml(text, fileName);
  const { data } = doc;
  if (data === null || data === undefined) {
    fail(fileName, 'is empty; write "rules: []" if you mean to declare no rules');
  }
  const bareList = Array.isArray(data);
  let entries: unknown[];
  if (Array.isArray(data)) {
    entries = data;
  } else if (isJsonObject(data)) {
    const extra = Object.keys(data).filter((key) => key !== 'rules');
    if (extra.length > 0) fail(fileName, `unknown top-level key ${extra.map((k) => `"${k}"`).join(', ')}: the file holds only "rules:"`);
    if (!Array.isArray(data.rules)) fail(fileName, `"rules" must be a list of rules, got ${describeJsonType(data.rules ?? null)}`);
    entries = data.rules;
  } else {
    return fail(fileName, `must hold a "rules:" list, got ${describeJsonType(data)}`);
  }

  const rules: NewRule[] = [];
  const issues: ValidationIssue[] = [];
  const lines: string[] = [];
  const firstIndexOfName = new Map<string, number>();
  entries.forEach((entry, index) => {
    const line = doc.lineOf(index, bareList);
    const name = isJsonObject(entry) && typeof entry.name === 'string' ? entry.name : undefined;
    const label = `${name === undefined ? '' : `rule ${JSON.stringify(name)} `}(rules[${index}]${line === undefined ? '' : `, line ${line}`})`;
    const report = (issue: ValidationIssue) => {
      issues.push({ path: childPath(`rules[${index}]`, issue.path), message: issue.message });
      lines.push(`${label}: ${formatIssue(issue)}`);
    };
    const first = name === undefined ? undefined : firstIndexOfName.get(name);
    if (first !== undefined) report({ path: 'name', message: `repeats the name of rules[${first}]; names must be unique in a rules file` });
    else if (name !== undefined) firstIndexOfName.set(name, index);
    try {
      rules.push(parseRuleInput(entry));
    } catch (error) {
      if (!(error instanceof RuleValidationError)) throw error;
      error.issues.forEach(report);
    }
  });
  if (issues.length > 0) throw new RulesFileError(fileName, issues, lines);
  return rules;
}

function conditionEntry(condition: Condition): Record<string, unknown> {
  const entry: Record<string, unknown> = { fieldPath: condition.fieldPath, op: condition.op, fieldType: condition.fieldType };
  if (condition.value !== undefined) entry.value = condition.value;
  if (condition.fieldRef !== undefined) entry.fieldRef = condition.fieldRef;
  if (condition.onMissingField !== RULE_DEFAULTS.onMissingField) entry.onMissingField = condition.onMissingField;
  if (condition.onCoercionFail !== RULE_DEFAULTS.onCoercionFail) entry.onCoercionFail = condition.onCoercionFail;
  return entry;
}

/** Fields in a fixed order; defaults that parsing fills back in are left out. */
function ruleEntry(rule: NewRule): Record<string, unknown> {
  const entry: Record<string, unknown> = { name: rule.name };
  if (rule.description !== RULE_DEFAULTS.description) entry.description = rule.description;
  entry.state = rule.state;
  entry.action = rule.action;
  if (rule.sampleRate !== RULE_DEFAULTS.sampleRate) entry.sampleRate = rule.sampleRate;
  if (rule.scopeTags.length > 0) entry.scopeTags = rule.scopeTags;
  // groupIndex is the group's position, which parsing fills back in.
  entry.orGroups = rule.orGroups.map((group: OrGroup) => ({ conditions: group.conditions.map(conditionEntry) }));
  return entry;
}

/** Keys whose values are written on one line, `{ segments: [ ... ] }`, to keep files readable. */
const ONE_LINE = new Set(['fieldPath', 'fieldRef', 'value', 'scopeTags']);

const HEADER = [
  ' TrapperKeeper rules, matched to the server\'s rules by name. Each rule is the proto3 JSON',
  ' mapping of trapperkeeper.sensor.v1.Rule plus description; left-out fields take their defaults.',
].join('\n');

/** A rules file for `rules`, sorted by name, that parseRulesFile reads back to the same rules. */
export function serializeRules(rules: readonly (Rule | NewRule)[]): string {
  const entries = rules
    .map(canonicalRule)
    .sort(byRuleName)
    .map(ruleEntry);
  const doc = new Document({ rules: entries });
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && ONE_LINE.has(String(pair.key.value)) && (isMap(pair.value) || isSeq(pair.value))) {
        if (isSeq(pair.value)) pair.value.items.forEach((item) => { if (isMap(item)) item.flow = true; });
        else pair.value.flow = true;
      }
    },
  });
  doc.commentBefore = HEADER;
  return doc.toString({ lineWidth: 0 });
}
