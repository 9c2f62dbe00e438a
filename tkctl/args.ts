import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DeployError } from '../components/errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Options every command takes. */
export const COMMON_OPTIONS = {
  stack: { type: 'string', short: 's' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

export const JSON_OPTION = { json: { type: 'boolean' } } as const satisfies Options;

export interface CommandSpec<O extends Options> {
  /** `tkctl <name>`, for messages. */
  name: string;
  options: O;
  /** Positional arguments allowed (names, for the usage line). */
  positionals?: { min: number; max: number };
}

type OptionValue<T> = T extends { type: 'boolean' } ? boolean : string;

export interface ParsedCommand<O extends Options> {
  values: { [K in keyof O]?: OptionValue<O[K]> } & { stack?: string; help?: boolean };
  positionals: string[];
}

/**
 * Parses a command's argv strictly: an unknown option or a missing value is a DeployError that
 * names it and points at the command's --help.
 */
export function parseCommandArgs<O extends Options>(argv: string[], spec: CommandSpec<O>): ParsedCommand<O> {
  let parsed: ParsedCommand<O>;
  try {
    parsed = parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...spec.options }, allowPositionals: true, strict: true }) as ParsedCommand<O>;
  } catch (error) {
    throw new DeployError(`tkctl ${spec.name}: ${(error as Error).message}`, `tkctl ${spec.name} --help`);
  }
  const { min, max } = spec.positionals ?? { min: 0, max: 0 };
  if (!parsed.values.help && (parsed.positionals.length < min || parsed.positionals.length > max)) {
    throw new DeployError(
      `tkctl ${spec.name}: expected ${min === max ? min : `${min} to ${max}`} argument(s), got ${parsed.positionals.length}${parsed.positionals.length ? ` (${parsed.positionals.join(' ')})` : ''}`,
      `tkctl ${spec.name} --help`,
    );
  }
  return parsed;
}
