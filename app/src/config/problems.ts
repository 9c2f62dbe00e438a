import { UserError } from '../errors.js';

/**
 * One thing wrong with the configuration. `source` says where the value came from, in the
 * words a person would use to find it: `file /etc/trapperkeeper/trapperkeeper.toml`,
 * `env TK_SENSOR_API_PORT`, `flag --port`. Neither `problem` nor `fix` ever holds a secret.
 */
export interface ConfigProblem {
  key: string;
  source: string;
  problem: string;
  fix: string;
}

export function fileSource(path: string): string {
  return `file ${path}`;
}

export function envSource(name: string): string {
  return `env ${name}`;
}

export function flagSource(flag: string): string {
  return `flag ${flag}`;
}

export const DEFAULT_SOURCE = 'default';

export function formatProblem(p: ConfigProblem): string {
  return `${p.key} (${p.source}): ${p.problem}; ${p.fix}`;
}

/** Every problem found while loading, reported together so one run shows all of them. */
export class ConfigError extends UserError {
  constructor(readonly problems: readonly ConfigProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(
      `Invalid configuration (${count}):\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`,
      'correct each setting listed above (the text after ";" says how), then run the command again',
    );
    this.name = 'ConfigError';
  }
}
