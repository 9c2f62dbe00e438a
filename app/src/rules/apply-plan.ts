/**
 * What applying a rules file would do to the server's rules, keyed by name: which rules to
 * create, change, remove, and which are already as declared. Both sides are compared in their
 * canonical form (as parseRuleInput returns them), so a file exported from the server and
 * applied unchanged plans no change.
 */
import { isDeepStrictEqual } from 'node:util';
import { UserError } from '../errors.js';
import type { Rule } from './model.js';
import { byRuleName, canonicalRule, withoutServerFields } from './canonical-rule.js';
import { parseRuleInput, type NewRule } from './validate.js';

/** The fields a change can touch; the name is the key and never "changes". */
export type RuleField = Exclude<keyof NewRule, 'name'>;
const RULE_FIELDS: readonly RuleField[] = ['description', 'state', 'action', 'orGroups', 'sampleRate', 'scopeTags'];

export interface RulesPlan {
  create: NewRule[];
  /** `fields` lists what differs, in RULE_FIELDS order. */
  change: { current: Rule; desired: NewRule; fields: RuleField[] }[];
  remove: Rule[];
  unchanged: Rule[];
}

function duplicateNames(rules: readonly { name: string }[]): string[] {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const { name } of rules) (seen.has(name) ? duplicates : seen).add(name);
  return [...duplicates].sort();
}

/**
 * Plans the apply. `desired` rules are validated (a RuleValidationError for an invalid one).
 * Throws a UserError when `desired` repeats a name, or when a desired name matches several
 * current rules, since the plan could not tell which one to change.
 */
export function planRulesApply(current: readonly Rule[], desired: readonly NewRule[]): RulesPlan {
  const repeated = duplicateNames(desired);
  if (repeated.length > 0) {
    throw new UserError(
      `The declared rules repeat the name${repeated.length > 1 ? 's' : ''} ${repeated.map((n) => JSON.stringify(n)).join(', ')}`,
      'Give every declared rule its own name: rules are matched to the server\'s by name.',
    );
  }
  const wanted = new Map(desired.map((rule) => [rule.name, parseRuleInput(withoutServerFields(rule))]));
  const ambiguous = duplicateNames(current).filter((name) => wanted.has(name));
  if (ambiguous.length > 0) {
    throw new UserError(
      `The server has several rules named ${ambiguous.map((n) => JSON.stringify(n)).join(', ')}, so the plan cannot tell which to change`,
      'Rename or delete the extra rules on the server (web UI or API), then apply again.',
    );
  }

  const plan: RulesPlan = { create: [], change: [], remove: [], unchanged: [] };
  const matched = new Set<string>();
  for (const rule of [...current].sort(byRuleName)) {
    const target = wanted.get(rule.name);
    if (target === undefined) {
      plan.remove.push(rule);
      continue;
    }
    matched.add(rule.name);
    const existing = canonicalRule(rule);
    const fields = RULE_FIELDS.filter((field) => !isDeepStrictEqual(existing[field], target[field]));
    if (fields.length === 0) plan.unchanged.push(rule);
    else plan.change.push({ current: rule, desired: target, fields });
  }
  plan.create = [...wanted.values()].filter((rule) => !matched.has(rule.name)).sort(byRuleName);
  return plan;
}

/** The summary the CLI prints: one line per rule touched, then the count left alone. */
export function describeRulesPlan(plan: RulesPlan): string {
  return [
    ...plan.create.map((rule) => `+ create ${rule.name}`),
    ...plan.change.map(({ desired, fields }) => `~ change ${desired.name} (${fields.join(', ')})`),
    ...plan.remove.map((rule) => `- remove ${rule.name}`),
    `${plan.unchanged.length} unchanged`,
  ].join('\n');
}
