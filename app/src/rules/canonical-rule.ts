import type { Rule } from './model.js';
import { parseRuleInput, RuleValidationError, type NewRule } from './validate.js';

/**
 * A rule without its id and creation time, in the form parseRuleInput returns (defaults
 * filled in, zero-value enums replaced), so that equal rules compare and serialize equal.
 * A stored rule that no longer validates is returned as it is rather than refused.
 */
export function canonicalRule(rule: Rule | NewRule): NewRule {
  const plain = withoutServerFields(rule);
  try {
    return parseRuleInput(plain);
  } catch (error) {
    if (error instanceof RuleValidationError) return plain;
    throw error;
  }
}

/** The NewRule fields of a rule: drops ruleId and createdAt (and anything else). */
export function withoutServerFields(rule: Rule | NewRule): NewRule {
  const { name, description, state, action, orGroups, sampleRate, scopeTags } = rule;
  return { name, description, state, action, orGroups, sampleRate, scopeTags };
}

/** Orders by name, by code unit, the same on every machine (no locale). */
export function byRuleName(a: { name: string }, b: { name: string }): number {
  if (a.name < b.name) return -1;
  return a.name > b.name ? 1 : 0;
}
