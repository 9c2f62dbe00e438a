/** The rule engine: validation, evaluation, rules-as-code files and apply plans. */
export type * from './model.js';
export { parseRuleInput, RuleValidationError, type NewRule, type ValidationIssue } from './validate.js';
export {
  compileRule, evaluateRule,
  type CompiledRule, type ConditionOutcome, type ConditionResult, type ConditionTrace, type EvaluateOptions,
  type RuleEvaluation, type RuleToEvaluate,
} from './evaluate.js';
export { parseRulesFile, RulesFileError, serializeRules } from './rules-file.js';
export { describeRulesPlan, planRulesApply, type RuleField, type RulesPlan } from './apply-plan.js';
export { canonicalRule } from './canonical-rule.js';
export { formatFieldPath } from './field-path.js';
export { RULE_DEFAULTS, RULE_LIMITS } from './rule-defaults.js';
export { ACTIONS, FIELD_TYPES, ON_COERCION_FAIL, ON_MISSING_FIELD, OPERATORS, RULE_STATES } from './enum-names.js';
