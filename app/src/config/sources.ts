import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parse } from 'smol-toml';
import { closestName } from './closest-name.js';
import { CONFIG_FILE_NAME } from './defaults.js';
import type { Layer, SourceReading } from './layer.js';
import { fileSource, type ConfigProblem } from './problems.js';
import { checkSetting, SECTIONS, SETTINGS, SETTINGS_BY_ID, typeName } from './schema.js';
import { findSecretsInFile, isTable, secretInFileFix } from './secrets-in-files.js';

export interface ConfigFileLocation {
  path: string;
  /** A file named with --config must exist; the default locations are optional. */
  required: boolean;
}

/**
 * The files to read, earliest (lowest precedence) first. An explicit config file replaces
 * the default locations rather than adding to them, so what you name is what you get.
 */
export function configFileLocations(options: {
  explicitPath?: string;
  cwd: string;
  homeDir: string;
  etcDir?: string;
}): ConfigFileLocation[] {
  if (options.explicitPath !== undefined) {
    return [{ path: resolvePath(options.explicitPath, options.cwd, options.homeDir), required: true }];
  }
  const paths = [
    join(options.etcDir ?? '/etc', 'trapperkeeper', CONFIG_FILE_NAME),
    join(options.homeDir, '.config', 'trapperkeeper', CONFIG_FILE_NAME),
    join(options.cwd, CONFIG_FILE_NAME),
  ];
  return [...new Set(paths)].map((path) => ({ path, required: false }));
}

/** `~` and `~/x` mean the home directory; anything relative is taken from `cwd`. */
export function resolvePath(path: string, cwd: string, homeDir: string): string {
  const expanded = path === '~' ? homeDir : path.startsWith('~/') ? join(homeDir, path.slice(2)) : path;
  return isAbsolute(expanded) ? resolve(expanded) : resolve(cwd, expanded);
}

export interface ConfigFileReading extends SourceReading {
  /** False when an optional file does not exist. */
  read: boolean;
}

/**
 * Reads one TOML file into a layer of validated settings, and reports every unknown key,
 * wrong type and secret in it. `requiredBy` names the flag or variable that asked for it.
 */
export function readConfigFile(location: ConfigFileLocation, requiredBy?: string): ConfigFileReading {
  const source = fileSource(location.path);
  let text: string;
  try {
    text = readFileSync(location.path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !location.required) return { layer: new Map(), problems: [], read: false };
    const problem: ConfigProblem =
      code === 'ENOENT'
        ? {
            key: 'config',
            source: requiredBy ?? source,
            problem: `the file ${location.path} does not exist`,
            fix: 'name an existing TOML file, or leave the option out to read the default locations',
          }
        : {
            key: 'config',
            source,
            problem: `cannot be read (${code ?? String(error)})`,
            fix: 'make it a readable file for the user running trapperkeeper, or remove it',
          };
    return { layer: new Map(), problems: [problem], read: false };
  }

  let document: Record<string, unknown>;
  try {
    document = parse(text) as Record<string, unknown>;
  } catch (error) {
    // smol-toml quotes the offending line after the first line of its message; that line may hold a secret.
    const { line, column, message } = error as { line?: number; column?: number; message: string };
    const reason = message.split('\n')[0]?.replace(/^Invalid TOML document:\s*/, '') ?? 'syntax error';
    const where = line !== undefined ? ` at line ${line}, column ${column ?? 0}` : '';
    return {
      layer: new Map(),
      problems: [{ key: 'syntax', source, problem: `is not valid TOML${where}: ${reason}`, fix: 'correct the TOML syntax there' }],
      read: true,
    };
  }
  return { ...documentToLayer(document, source), read: true };
}

/** Validates a parsed TOML document key by key. Exported for tests of the rules without files. */
export function documentToLayer(document: Record<string, unknown>, source: string): SourceReading {
  const problems: ConfigProblem[] = [];
  const layer: Layer = new Map();
  const secrets = new Set(findSecretsInFile(document));
  for (const key of secrets) {
    problems.push({
      key,
      source,
      problem: 'holds a secret, and secrets are not allowed in configuration files (the value is not shown)',
      fix: secretInFileFix(key),
    });
  }

  const topLevelKeys = SETTINGS.filter((s) => s.section === undefined).map((s) => s.key);
  for (const [key, value] of Object.entries(document)) {
    if (secrets.has(key)) continue;
    if (SECTIONS.includes(key)) {
      if (!isTable(value)) {
        problems.push({ key, source, problem: `must be a table, found ${typeName(value)}`, fix: `write it as a [${key}] section` });
        continue;
      }
      for (const [leaf, leafValue] of Object.entries(value)) {
        const id = `${key}.${leaf}`;
        if (secrets.has(id)) continue;
        const setting = SETTINGS_BY_ID.get(id);
        if (!setting) {
          const known = SETTINGS.filter((s) => s.section === key).map((s) => s.key);
          problems.push({ key: id, source, problem: 'is not a known setting', fix: unknownKeyFix(leaf, known, `[${key}]`) });
          continue;
        }
        addChecked(layer, problems, id, leafValue, source);
      }
      continue;
    }
    if (SETTINGS_BY_ID.has(key)) {
      addChecked(layer, problems, key, value, source);
      continue;
    }
    const fix =
      key === 'common'
        ? `move the keys of [common] to the top of the file, before any [section] (top-level keys: ${topLevelKeys.join(', ')})`
        : unknownKeyFix(key, [...topLevelKeys, ...SECTIONS], 'the top level');
    problems.push({ key, source, problem: 'is not a known setting or section', fix });
  }
  return { layer, problems };
}

function addChecked(layer: Layer, problems: ConfigProblem[], id: string, value: unknown, source: string): void {
  const setting = SETTINGS_BY_ID.get(id);
  if (!setting) return;
  const checked = checkSetting(setting, value);
  if (checked.ok) layer.set(id, { value: checked.value, source });
  else problems.push({ key: id, source, problem: checked.problem, fix: checked.fix });
}

function unknownKeyFix(key: string, known: string[], where: string): string {
  const suggestion = closestName(key, known, 3);
  return suggestion
    ? `did you mean "${suggestion}"? rename or remove it`
    : `remove it (known keys in ${where}: ${known.join(', ')})`;
}
