/**
 * The rule evaluator (reference: "Rule semantics"). A rule matches an event when ANY of its
 * groups matches; a group matches when ALL of its conditions hold. Evaluation runs groups and
 * conditions in order and short-circuits: a group stops at its first false condition, the
 * rule at its first matching group or first error. The trace lists every condition that was
 * evaluated, so it always contains the conditions that decided the result.
 *
 * A wildcard path holds when ANY value it reaches holds; a value that holds wins over one
 * whose policy is FAIL, so the answer does not depend on element order. Only when no value
 * holds does a FAIL policy turn into an error.
 *
 * This runs for every event and every active rule, so rules are compiled once (cached per
 * `orGroups` array; rules are treated as immutable) and evaluation allocates little.
 */
import { describeValue } from './proto-json.js';
import { secureRandom } from './secure-random.js';
import { compileComparator, literalOf, type Comparator } from './operators.js';
import {
  compileFieldPath, formatSteps, MISSING, resolvePath, visitPath,
  type CompiledPath, type WildcardChoice,
} from './field-path.js';
import type { FieldType, OnCoercionFail, OnMissingField, Operator, OrGroup, Rule } from './model.js';

/** What the data gave: the operator's answer, or why there was none. */
export type ConditionOutcome = 'true' | 'false' | 'missing' | 'coercion-failed';
/** The condition's value after onMissingField / onCoercionFail were applied. */
export type ConditionResult = 'true' | 'false' | 'error';

export interface ConditionTrace {
  /** Positions in `orGroups` and in the group's `conditions`. */
  groupIndex: number;
  conditionIndex: number;
  /** The condition's field path as written, e.g. `readings[*].temp`. */
  field: string;
  /** Where the deciding value was found, wildcards replaced: `readings[1].temp`. */
  resolvedField: string;
  /** The value found there; undefined when missing. */
  value: unknown;
  /** The fieldRef path when comparing against another field. */
  compareToField?: string;
  /** The literal compared against, or the fieldRef's value (undefined when missing). */
  compareTo: unknown;
  outcome: ConditionOutcome;
  result: ConditionResult;
  /** How many values the path reached: 1 without wildcards. */
  valuesChecked: number;
}

export interface RuleEvaluation {
  matched: boolean;
  /** False when sampleRate skipped this event: then matched is false and nothing ran. */
  sampled: boolean;
  /** Set when a FAIL policy fired; the rule then does not match this event. */
  error: string | null;
  trace: ConditionTrace[];
}

export interface EvaluateOptions {
  /** Source of uniform numbers in [0, 1) for sampling; defaults to a CSPRNG (see secure-random.ts). */
  random?: () => number;
  /** Build the trace (default true); the ingestion path turns it off. */
  trace?: boolean;
}

export type RuleToEvaluate = Pick<Rule, 'orGroups' | 'sampleRate'>;
export type CompiledRule = (payload: unknown, options?: EvaluateOptions) => RuleEvaluation;

interface CompiledCondition {
  groupIndex: number;
  conditionIndex: number;
  location: string;
  field: CompiledPath;
  ref: CompiledPath | undefined;
  literal: unknown;
  presence: 'exists' | 'is-null' | undefined;
  compare: Comparator;
  whenMissing: ConditionResult;
  whenCoercionFails: ConditionResult;
  op: Operator;
  fieldType: FieldType;
  onMissingField: OnMissingField;
  onCoercionFail: OnCoercionFail;
}

type CompiledGroups = readonly (readonly CompiledCondition[])[];

interface Run {
  trace: ConditionTrace[] | undefined;
  error: string | null;
}

function policyResult(policy: OnMissingField | OnCoercionFail): ConditionResult {
  if (policy.endsWith('_MATCH')) return 'true';
  if (policy.endsWith('_FAIL')) return 'error';
  return 'false'; // SKIP, and UNSPECIFIED behaves as SKIP
}

function compileGroups(groups: readonly OrGroup[]): CompiledGroups {
  return groups.map((group, groupIndex) => group.conditions.map((condition, conditionIndex) => {
    const fieldType = condition.fieldType === 'FIELD_TYPE_UNSPECIFIED' ? 'FIELD_TYPE_ANY' : condition.fieldType;
    return {
      groupIndex,
      conditionIndex,
      location: `orGroups[${groupIndex}].conditions[${conditionIndex}]`,
      field: compileFieldPath(condition.fieldPath),
      ref: condition.fieldRef ? compileFieldPath(condition.fieldRef) : undefined,
      literal: literalOf(condition.value),
      presence: condition.op === 'OPERATOR_EXISTS' ? 'exists' : condition.op === 'OPERATOR_IS_NULL' ? 'is-null' : undefined,
      compare: compileComparator(condition.op, fieldType, condition.value),
      whenMissing: policyResult(condition.onMissingField),
      whenCoercionFails: policyResult(condition.onCoercionFail),
      op: condition.op,
      fieldType,
      onMissingField: condition.onMissingField,
      onCoercionFail: condition.onCoercionFail,
    };
  }));
}

function outcomeFor(c: CompiledCondition, value: unknown, other: unknown): ConditionOutcome {
  if (c.presence === 'exists') return value === MISSING || value === null ? 'missing' : 'true';
  if (c.presence === 'is-null') return value === MISSING ? 'missing' : value === null ? 'true' : 'false';
  if (value === MISSING || value === null) return 'missing';
  if (c.ref !== undefined && (other === MISSING || other === null)) return 'missing';
  return c.compare(value, other);
}

function resultFor(c: CompiledCondition, outcome: ConditionOutcome): ConditionResult {
  if (outcome === 'missing') return c.whenMissing;
  if (outcome === 'coercion-failed') return c.whenCoercionFails;
  return outcome;
}

function failureMessage(c: CompiledCondition, resolvedField: string, value: unknown, other: unknown, outcome: ConditionOutcome): string {
  if (outcome === 'missing') {
    const fieldAbsent = value === MISSING || value === null;
    const path = fieldAbsent || c.ref === undefined ? resolvedField : `${c.ref.text} (fieldRef)`;
    const found = fieldAbsent ? value : other;
    return `${c.location}: ${path} is ${found === null ? 'null' : 'missing'} (onMissingField: ${c.onMissingField})`;
  }
  const against = c.ref === undefined ? '' : ` compared with ${c.ref.text} = ${describeValue(other)}`;
  return `${c.location}: ${resolvedField} = ${describeValue(value)}${against} cannot be read as ${c.fieldType} `
    + `for ${c.op} (onCoercionFail: ${c.onCoercionFail})`;
}

/** Which of a wildcard's values a trace shows: one that holds, else the first error, else the first. */
const TELLING = { true: 2, error: 1, false: 0 } as const;

function evaluateCondition(c: CompiledCondition, payload: unknown, run: Run): ConditionResult {
  const other = c.ref === undefined ? c.literal : resolvePath(c.ref.steps, payload);
  let value: unknown;
  let outcome: ConditionOutcome;
  let result: ConditionResult;
  let choices: readonly WildcardChoice[] = [];
  let valuesChecked = 1;

  if (c.field.wildcards === 0) {
    value = resolvePath(c.field.steps, payload);
    outcome = outcomeFor(c, value, other);
    result = resultFor(c, outcome);
  } else {
    let kept = -1;
    value = MISSING;
    outcome = 'missing';
    result = 'false';
    valuesChecked = 0;
    const keepChoices = run.trace !== undefined;
    visitPath(c.field.steps, payload, (candidate, candidateChoices) => {
      valuesChecked += 1;
      const candidateOutcome = outcomeFor(c, candidate, other);
      const candidateResult = resultFor(c, candidateOutcome);
      if (TELLING[candidateResult] > kept) {
        kept = TELLING[candidateResult];
        value = candidate;
        outcome = candidateOutcome;
        result = candidateResult;
        if (keepChoices || candidateResult === 'error') choices = candidateChoices.slice();
      }
      return candidateResult === 'true';
    });
  }

  if (result === 'error' || run.trace !== undefined) {
    const resolvedField = c.field.wildcards === 0 ? c.field.text : formatSteps(c.field.steps, choices);
    if (result === 'error') run.error = failureMessage(c, resolvedField, value, other, outcome);
    if (run.trace !== undefined) {
      const entry: ConditionTrace = {
        groupIndex: c.groupIndex,
        conditionIndex: c.conditionIndex,
        field: c.field.text,
        resolvedField,
        value: value === MISSING ? undefined : value,
        compareTo: other === MISSING ? undefined : other,
        outcome,
        result,
        valuesChecked,
      };
      if (c.ref !== undefined) entry.compareToField = c.ref.text;
      run.trace.push(entry);
    }
  }
  return result;
}

/**
 * Whether this event is evaluated (reference: sampling happens before any field is read). 0
 * never evaluates and 1 always does, neither drawing a number; in between, a uniform draw in
 * [0, 1) below the rate evaluates, so a rate r evaluates a share r of events and a draw equal
 * to the rate does not.
 */
function isSampled(sampleRate: number, random: () => number): boolean {
  if (sampleRate >= 1) return true;
  if (!(sampleRate > 0)) return false;
  return random() < sampleRate;
}

function evaluateCompiled(groups: CompiledGroups, sampleRate: number, payload: unknown, options?: EvaluateOptions): RuleEvaluation {
  if (!isSampled(sampleRate, options?.random ?? secureRandom)) {
    return { matched: false, sampled: false, error: null, trace: [] };
  }
  const run: Run = { trace: options?.trace === false ? undefined : [], error: null };
  let matched = false;
  for (const group of groups) {
    // An empty group is refused at creation; should one get here it matches nothing.
    let holds = group.length > 0;
    for (const condition of group) {
      const result = evaluateCondition(condition, payload, run);
      if (result === 'error') return { matched: false, sampled: true, error: run.error, trace: run.trace ?? [] };
      if (result === 'false') {
        holds = false;
        break;
      }
    }
    if (holds) {
      matched = true;
      break;
    }
  }
  return { matched, sampled: true, error: null, trace: run.trace ?? [] };
}

const compiledByGroups = new WeakMap<readonly OrGroup[], CompiledGroups>();

function compiledGroupsOf(groups: readonly OrGroup[]): CompiledGroups {
  let compiled = compiledByGroups.get(groups);
  if (compiled === undefined) {
    compiled = compileGroups(groups);
    compiledByGroups.set(groups, compiled);
  }
  return compiled;
}

/** A reusable evaluator for one rule; the rule must be valid (see parseRuleInput). */
export function compileRule(rule: RuleToEvaluate): CompiledRule {
  const groups = compiledGroupsOf(rule.orGroups);
  const { sampleRate } = rule;
  return (payload, options) => evaluateCompiled(groups, sampleRate, payload, options);
}

/** Evaluates a valid rule against one event payload (a JSON value). */
export function evaluateRule(rule: RuleToEvaluate, payload: unknown, options?: EvaluateOptions): RuleEvaluation {
  return evaluateCompiled(compiledGroupsOf(rule.orGroups), rule.sampleRate, payload, options);
}
