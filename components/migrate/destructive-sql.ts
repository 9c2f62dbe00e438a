import type { Dialect } from '../../app/src/db/types.js';
import { sqlStatements, type SqlToken } from './sql-tokens.js';

/**
 * Statements that lose data, or that break the release still serving while the new one starts
 * (a blue-green release migrates before it switches, so the old code runs on the new schema).
 */
export type DestructiveRule =
  | 'drop-table'
  | 'drop-column'
  | 'column-type-change'
  | 'add-not-null-without-default'
  | 'set-not-null'
  | 'rename'
  | 'truncate'
  | 'delete-without-where';

export interface DestructiveFinding {
  rule: DestructiveRule;
  /** 1-based line of the statement's clause that does it. */
  line: number;
  /** What it does, naming the table (and column), e.g. `DROP COLUMN users.email`. */
  summary: string;
  /** Why it is a risk. */
  risk: string;
}

const RISK: Record<DestructiveRule, string> = {
  'drop-table': 'the table and its rows are gone; the release still serving fails on it',
  'drop-column': "the column's data is gone; the release still serving fails if it reads or writes it",
  'column-type-change': 'may rewrite or lock the table, fail on existing rows, or lose precision',
  'add-not-null-without-default': 'fails on a table with rows, and inserts of the release still serving fail',
  'set-not-null': 'fails if a row holds NULL; inserts of the release still serving without the column fail',
  rename: 'the release still serving uses the old name and fails',
  truncate: 'every row of the table is deleted',
  'delete-without-where': 'every row of the table is deleted',
};

/** What is not a column after ALTER TABLE ... ADD / DROP / ALTER. */
const NOT_A_COLUMN = new Set([
  'CONSTRAINT', 'INDEX', 'KEY', 'PRIMARY', 'FOREIGN', 'UNIQUE', 'CHECK', 'FULLTEXT', 'SPATIAL',
  'PARTITION', 'SYSTEM', 'PERIOD', 'TRIGGER',
]);

/** A column definition holding one of these gets a value without a DEFAULT clause. */
const FILLS_ITSELF = new Set(['DEFAULT', 'GENERATED', 'AS', 'AUTO_INCREMENT', 'AUTOINCREMENT', 'IDENTITY', 'SERIAL', 'BIGSERIAL', 'SMALLSERIAL']);

/** Every destructive statement of a migration file, in file order. */
export function findDestructiveStatements(sql: string, dialect: Dialect): DestructiveFinding[] {
  const findings: DestructiveFinding[] = [];
  const add = (rule: DestructiveRule, at: SqlToken, summary: string) => findings.push({ rule, line: at.line, summary, risk: RISK[rule] });
  for (const { tokens } of sqlStatements(sql, dialect)) {
    const first = tokens[0];
    if (!first || first.kind !== 'word') continue;
    switch (first.upper) {
      case 'DROP':
        if (isWord(tokens[1], 'TABLE')) {
          for (const name of nameList(tokens, skipIfExists(tokens, 2))) add('drop-table', first, `DROP TABLE ${name}`);
        }
        break;
      case 'TRUNCATE': {
        let at = isWord(tokens[1], 'TABLE') ? 2 : 1;
        if (isWord(tokens[at], 'ONLY')) at += 1;
        for (const name of nameList(tokens, at)) add('truncate', first, `TRUNCATE ${name}`);
        break;
      }
      case 'DELETE':
      case 'WITH':
        checkDelete(tokens, add);
        break;
      case 'RENAME':
        if (isWord(tokens[1], 'TABLE')) add('rename', first, `RENAME TABLE ${renderFrom(tokens, 2)}`);
        break;
      case 'ALTER':
        checkAlterTable(tokens, add);
        break;
    }
  }
  return findings;
}

type Add = (rule: DestructiveRule, at: SqlToken, summary: string) => void;

function checkDelete(tokens: SqlToken[], add: Add): void {
  const at = tokens.findIndex((token) => token.depth === 0 && isWord(token, 'DELETE'));
  if (at < 0) return;
  const hasWhere = tokens.slice(at).some((token) => token.depth === 0 && isWord(token, 'WHERE'));
  if (hasWhere) return;
  const from = tokens.findIndex((token, index) => index > at && token.depth === 0 && isWord(token, 'FROM'));
  const table = from >= 0 ? readName(tokens, from + 1).name : readName(tokens, at + 1).name;
  add('delete-without-where', tokens[at]!, `DELETE FROM ${table} without WHERE`);
}

/** ALTER [IGNORE|ONLINE] TABLE [IF EXISTS] [ONLY] name action, action, ... */
function checkAlterTable(tokens: SqlToken[], add: Add): void {
  let at = 1;
  while (isWord(tokens[at], 'IGNORE') || isWord(tokens[at], 'ONLINE')) at += 1;
  if (!isWord(tokens[at], 'TABLE')) return;
  at = skipIfExists(tokens, at + 1);
  if (isWord(tokens[at], 'ONLY')) at += 1;
  const { name: table, next } = readName(tokens, at);
  for (const action of splitTopLevel(tokens.slice(next), 0)) checkAlterAction(table, action, add);
}

function checkAlterAction(table: string, action: SqlToken[], add: Add): void {
  const verb = action[0];
  if (!verb || verb.kind !== 'word') return;
  const second = action[1];
  switch (verb.upper) {
    case 'DROP': {
      if (second?.kind === 'word' && NOT_A_COLUMN.has(second.upper)) return;
      const at = skipIfExists(action, isWord(second, 'COLUMN') ? 2 : 1);
      add('drop-column', verb, `DROP COLUMN ${table}.${readName(action, at).name}`);
      return;
    }
    case 'ALTER':
    case 'MODIFY': {
      if (second?.kind === 'word' && (NOT_A_COLUMN.has(second.upper) || second.upper === 'CONSTRAINT')) return;
      const { name: column, next } = readName(action, isWord(second, 'COLUMN') ? 2 : 1);
      const rest = action.slice(next);
      if (verb.upper === 'MODIFY') {
        add('column-type-change', verb, `MODIFY COLUMN ${table}.${column} (redefines its type)`);
      } else if (startsWith(rest, 'TYPE') || startsWith(rest, 'SET', 'DATA', 'TYPE')) {
        add('column-type-change', verb, `ALTER COLUMN ${table}.${column} TYPE`);
      } else if (startsWith(rest, 'SET', 'NOT', 'NULL')) {
        add('set-not-null', verb, `ALTER COLUMN ${table}.${column} SET NOT NULL`);
      }
      return;
    }
    case 'CHANGE': {
      const old = readName(action, isWord(second, 'COLUMN') ? 2 : 1);
      const renamed = readName(action, old.next);
      if (unquote(old.name).toLowerCase() !== unquote(renamed.name).toLowerCase()) {
        add('rename', verb, `CHANGE COLUMN ${table}.${old.name} to ${renamed.name}`);
      }
      add('column-type-change', verb, `CHANGE COLUMN ${table}.${old.name} (redefines its type)`);
      return;
    }
    case 'ADD': {
      if (second?.kind === 'word' && NOT_A_COLUMN.has(second.upper)) return;
      let at = isWord(second, 'COLUMN') ? 2 : 1;
      if (isWord(action[at], 'IF') && isWord(action[at + 1], 'NOT') && isWord(action[at + 2], 'EXISTS')) at += 3;
      // MySQL: ADD [COLUMN] (a INT NOT NULL, b ...)
      const definitions = isSymbol(action[at], '(') ? splitTopLevel(action.slice(at + 1, -1), 1) : [action.slice(at)];
      for (const definition of definitions) {
        if (definition[0]?.kind === 'word' && NOT_A_COLUMN.has(definition[0].upper)) continue;
        if (!requiresValue(definition)) continue;
        add('add-not-null-without-default', verb, `ADD COLUMN ${table}.${readName(definition, 0).name} NOT NULL without DEFAULT`);
      }
      return;
    }
    case 'RENAME': {
      if (isWord(second, 'TO') || isWord(second, 'AS')) {
        add('rename', verb, `RENAME TABLE ${table} to ${readName(action, 2).name}`);
      } else if (second?.kind === 'word' && NOT_A_COLUMN.has(second.upper)) {
        return;
      } else {
        const from = readName(action, isWord(second, 'COLUMN') ? 2 : 1);
        const to = readName(action, isWord(action[from.next], 'TO') ? from.next + 1 : from.next);
        add('rename', verb, `RENAME COLUMN ${table}.${from.name} to ${to.name}`);
      }
      return;
    }
  }
}

/** A column definition (name type constraints...) that says NOT NULL and gets no value by itself. */
function requiresValue(definition: SqlToken[]): boolean {
  const top = definition.filter((token) => token.depth === definition[0]?.depth);
  const notNull = top.some((token, index) => isWord(token, 'NOT') && isWord(top[index + 1], 'NULL'));
  return notNull && !top.some((token) => token.kind === 'word' && FILLS_ITSELF.has(token.upper));
}

/** Splits tokens at the commas of the given depth. */
function splitTopLevel(tokens: SqlToken[], depth: number): SqlToken[][] {
  const parts: SqlToken[][] = [[]];
  for (const token of tokens) {
    if (token.depth === depth && isSymbol(token, ',')) parts.push([]);
    else parts[parts.length - 1]!.push(token);
  }
  return parts.filter((part) => part.length > 0);
}

/** A possibly qualified name (schema.table) starting at `at`, as written. */
function readName(tokens: SqlToken[], at: number): { name: string; next: number } {
  let name = tokens[at]?.text ?? '?';
  let next = at + 1;
  while (isSymbol(tokens[next], '.') && tokens[next + 1]) {
    name += `.${tokens[next + 1]!.text}`;
    next += 2;
  }
  return { name, next };
}

/** Comma-separated names from `at` (DROP TABLE a, b), ignoring CASCADE and the like after them. */
function nameList(tokens: SqlToken[], at: number): string[] {
  const names: string[] = [];
  let index = at;
  while (index < tokens.length) {
    const { name, next } = readName(tokens, index);
    names.push(name);
    if (!isSymbol(tokens[next], ',')) break;
    index = next + 1;
  }
  return names;
}

function renderFrom(tokens: SqlToken[], at: number): string {
  return tokens.slice(at).map((token) => token.text).join(' ').replace(/ ([.,]) ?/g, '$1');
}

function skipIfExists(tokens: SqlToken[], at: number): number {
  return isWord(tokens[at], 'IF') && isWord(tokens[at + 1], 'EXISTS') ? at + 2 : at;
}

function startsWith(tokens: SqlToken[], ...words: string[]): boolean {
  return words.every((word, index) => isWord(tokens[index], word));
}

function isWord(token: SqlToken | undefined, upper: string): boolean {
  return token?.kind === 'word' && token.upper === upper;
}

function isSymbol(token: SqlToken | undefined, text: string): boolean {
  return token?.kind === 'symbol' && token.text === text;
}

function unquote(name: string): string {
  return name.replace(/^["`]|["`]$/g, '');
}
