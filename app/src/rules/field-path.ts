/**
 * Resolving a FieldPath against an event payload (reference: "Rule semantics", paths).
 * Missing is distinct from null: an index on an object, a name on a list, an index out of
 * range, a step through null or a scalar, or a wildcard over an empty collection all give
 * MISSING; a present JSON null is returned as null.
 */
import type { FieldPath } from './model.js';

export const MISSING: unique symbol = Symbol('missing');
export type Missing = typeof MISSING;

/** A name, an array index, or WILDCARD. */
export type PathStep = string | number | typeof WILDCARD;
export const WILDCARD: unique symbol = Symbol('wildcard');

/** The key or index a wildcard stood for while reaching one value. */
export type WildcardChoice = string | number;

export interface CompiledPath {
  readonly steps: readonly PathStep[];
  readonly wildcards: number;
  /** As a person writes it: `readings[*].temp`, `data["field.with.dots"][0]`. */
  readonly text: string;
}

export function compileFieldPath(path: FieldPath): CompiledPath {
  const steps: PathStep[] = [];
  let wildcards = 0;
  for (const segment of path.segments) {
    if ('fieldName' in segment) steps.push(segment.fieldName);
    else if ('arrayIndex' in segment) steps.push(segment.arrayIndex);
    else {
      steps.push(WILDCARD);
      wildcards += 1;
    }
  }
  return { steps, wildcards, text: formatSteps(steps, []) };
}

/** One step down; undefined (a hole, or a non-JSON payload) counts as missing. */
function stepInto(container: unknown, step: string | number): unknown {
  if (typeof step === 'number') {
    if (!Array.isArray(container) || step < 0 || step >= container.length) return MISSING;
    const value: unknown = container[step];
    return value === undefined ? MISSING : value;
  }
  if (typeof container !== 'object' || container === null || Array.isArray(container)) return MISSING;
  if (!Object.hasOwn(container, step)) return MISSING;
  const value = (container as Record<string, unknown>)[step];
  return value === undefined ? MISSING : value;
}

/**
 * The single value a wildcard-free path reaches, or MISSING. A wildcard step (never valid
 * where this is used, as in fieldRef) resolves to MISSING.
 */
export function resolvePath(steps: readonly PathStep[], root: unknown): unknown {
  let current = root;
  for (const step of steps) {
    if (step === WILDCARD) return MISSING;
    current = stepInto(current, step);
    if (current === MISSING) return MISSING;
  }
  return current;
}

/**
 * Calls `visit` with every value the path reaches, in document order: list elements in
 * order, object values in sorted key order. A dead end is visited once as MISSING, so a
 * wildcard over an empty collection is one missing value. `choices` holds what each wildcard
 * stood for (only the wildcards passed so far); it is reused, so copy it to keep it.
 * Stops as soon as `visit` returns true.
 */
export function visitPath(
  steps: readonly PathStep[],
  root: unknown,
  visit: (value: unknown, choices: readonly WildcardChoice[]) => boolean,
): void {
  const choices: WildcardChoice[] = [];
  const walk = (current: unknown, from: number): boolean => {
    for (let i = from; i < steps.length; i += 1) {
      const step = steps[i] as PathStep;
      if (step !== WILDCARD) {
        current = stepInto(current, step);
        if (current === MISSING) return visit(MISSING, choices);
        continue;
      }
      if (Array.isArray(current)) {
        if (current.length === 0) return visit(MISSING, choices);
        for (let index = 0; index < current.length; index += 1) {
          choices.push(index);
          const element: unknown = current[index];
          const stop = walk(element === undefined ? MISSING : element, i + 1);
          choices.pop();
          if (stop) return true;
        }
        return false;
      }
      if (typeof current === 'object' && current !== null) {
        const keys = Object.keys(current).sort();
        if (keys.length === 0) return visit(MISSING, choices);
        for (const key of keys) {
          choices.push(key);
          const value = (current as Record<string, unknown>)[key];
          const stop = walk(value === undefined ? MISSING : value, i + 1);
          choices.pop();
          if (stop) return true;
        }
        return false;
      }
      return visit(MISSING, choices);
    }
    return visit(current, choices);
  };
  walk(root, 0);
}

const PLAIN_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** The path as text; wildcards are replaced by `choices` where given (`readings[1].temp`). */
export function formatSteps(steps: readonly PathStep[], choices: readonly WildcardChoice[]): string {
  let text = '';
  let wildcard = 0;
  for (const original of steps) {
    const step = original === WILDCARD ? (choices[wildcard++] ?? WILDCARD) : original;
    if (step === WILDCARD) text += '[*]';
    else if (typeof step === 'number') text += `[${step}]`;
    else if (PLAIN_NAME.test(step) && original !== WILDCARD) text += text === '' ? step : `.${step}`;
    else text += `[${JSON.stringify(step)}]`;
  }
  return text;
}

export function formatFieldPath(path: FieldPath): string {
  return compileFieldPath(path).text;
}
