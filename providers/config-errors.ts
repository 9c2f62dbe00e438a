import { closestName } from '../app/src/config/closest-name.js';
import type { z } from 'zod';
import { DeployError } from '../components/errors.js';

/** The Pulumi config namespace of every key this toolkit reads (`trapperkeeper:docker.host`). */
export const CONFIG_NAMESPACE = 'trapperkeeper';

/** One thing wrong with the stack config: where, what, and the command that fixes it. */
export interface ConfigProblem {
  /** Dotted key path inside the namespace, e.g. `docker.ports.http`; `` for the whole config. */
  path: string;
  /** What the problem is about when it is not a config key (the stack name); shown instead of the key. */
  subject?: string;
  problem: string;
  fix: string;
}

/** `trapperkeeper:docker.ports.http: must be 1-65535; pulumi config set --path 'docker.ports.http' 8080` */
export function formatConfigProblem(problem: ConfigProblem): string {
  const key = problem.subject ?? (problem.path ? `${CONFIG_NAMESPACE}:${problem.path}` : CONFIG_NAMESPACE);
  return `${key}: ${problem.problem}; ${problem.fix}`;
}

/**
 * The stack config cannot be deployed. Thrown before any resource is declared, with every
 * problem found at once, so one `pulumi up` shows everything to fix.
 */
export class ConfigError extends DeployError {
  constructor(
    readonly stackName: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`The config of stack '${stackName}' has ${count}:\n${problems.map((p) => `  - ${formatConfigProblem(p)}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** `pulumi config set` for a key path with an example value, quoted for a POSIX shell. */
export function configSetCommand(path: string, example: string, options: { secret?: boolean } = {}): string {
  const flags = [options.secret ? '--secret' : '', path.includes('.') ? '--path' : ''].filter(Boolean).join(' ');
  const key = path.includes('.') ? `'${path}'` : path;
  return `pulumi config set ${flags ? `${flags} ` : ''}${key} ${example}`;
}

export function configRemoveCommand(path: string): string {
  return path.includes('.') ? `pulumi config rm --path '${path}'` : `pulumi config rm ${path}`;
}

/** Example values by key path, used to write the fix of a problem with that key. */
export type ConfigExamples = Readonly<Record<string, string>>;

/**
 * What zod found, as problems. Schema-level messages (`must be 1-65535`) are kept; generic
 * ones (missing, wrong type) are written by `describeGenericIssue`, passed to zod at parse time.
 * Values are never echoed: a mistyped secret must not end up in a terminal or CI log.
 */
export function problemsFromIssues(issues: readonly z.core.$ZodIssue[], examples: ConfigExamples): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const keyPath = path ? `${path}.${key}` : key;
        // Keys of another provider's section are known keys too, but no suggestion for themselves.
        const suggestion = closestKey(key, keysUnder(path, examples).filter((known) => known !== key));
        problems.push({
          path: keyPath,
          problem: suggestion ? `is not a known key (did you mean '${suggestion}'?)` : 'is not a known key',
          fix: configRemoveCommand(keyPath),
        });
      }
      continue;
    }
    problems.push({ path, problem: issue.message, fix: fixFor(path, examples) });
  }
  return problems;
}

/** The keys directly under a path, read off the example table (which names every leaf key). */
export function keysUnder(path: string, examples: ConfigExamples): string[] {
  const prefix = path ? `${path}.` : '';
  const keys = new Set<string>();
  for (const leaf of Object.keys(examples)) {
    if (leaf.startsWith(prefix)) keys.add(leaf.slice(prefix.length).split('.')[0] ?? '');
  }
  keys.delete('');
  return [...keys];
}

export function fixFor(path: string, examples: ConfigExamples): string {
  const example = examples[path];
  return example === undefined ? `correct it with pulumi config set --path '${path}' <value>` : configSetCommand(path, example);
}

/** Zod's per-parse error map: wording for the issues no schema-level message covers. */
export function describeGenericIssue(issue: z.core.$ZodRawIssue): string {
  if (issue.code === 'invalid_type') {
    return issue.input === undefined ? 'is required' : `must be ${article(issue.expected)}, not ${describeType(issue.input)}`;
  }
  if (issue.code === 'invalid_value') {
    return `must be one of ${issue.values.map((v) => String(v)).join(', ')}`;
  }
  if (issue.code === 'invalid_union') return 'has no accepted form';
  return 'is not valid';
}

function article(expected: string): string {
  if (expected === 'object') return 'a map of keys';
  if (expected === 'int') return 'a whole number';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map of keys';
  return `a ${typeof value}`;
}

/** The known key nearest to a mistyped one (at most two edits away), for "did you mean". */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  return closestName(key, known, 2);
}

/**
 * The fields of `raw` that are valid on their own (defaults filled in), so a cross-field check
 * can still run when a sibling field is wrong. Missing when any field it needs is invalid.
 */
export function validFields<Shape extends Record<string, z.ZodType>>(
  object: { shape: Shape },
  raw: unknown,
): Partial<{ [K in keyof Shape]: z.output<Shape[K]> }> {
  const record = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const valid: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(object.shape)) {
    const parsed = (schema as z.ZodType).safeParse(record[key]);
    if (parsed.success) valid[key] = parsed.data;
  }
  return valid as Partial<{ [K in keyof Shape]: z.output<Shape[K]> }>;
}
