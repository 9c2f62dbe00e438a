import { visitCode } from '../../app/src/db/sql-text.js';
import type { Dialect } from '../../app/src/db/types.js';

/**
 * SQL as tokens, with the app's idea of what is code (app/src/db/sql-text.ts: the same lexer
 * splits the migration files when they are applied), so a keyword inside a comment or a string
 * literal is never a keyword here either.
 *
 * - `word`: a keyword, an unquoted identifier or a number (`text` as written, `upper` for matching);
 * - `quoted`: a "double-quoted" or `backquoted` identifier, never matched as a keyword;
 * - `string`: a string literal ('...', E'...', $tag$...$tag$);
 * - `symbol`: one punctuation character: ( ) , ; . = ...
 * Comments and whitespace produce no token.
 */
export type SqlTokenKind = 'word' | 'quoted' | 'string' | 'symbol';

export interface SqlToken {
  kind: SqlTokenKind;
  text: string;
  /** `text` in upper case, for keyword matching. */
  upper: string;
  /** 1-based line of the token's first character. */
  line: number;
  /** Parenthesis depth within its statement (0 at the top level). */
  depth: number;
}

export interface SqlStatement {
  tokens: SqlToken[];
  /** Line of the statement's first token. */
  line: number;
}

const WORD_CHAR = /[A-Za-z0-9_$]/;

export function tokenizeSql(sql: string, dialect: Dialect): SqlToken[] {
  const lineOf = lineIndex(sql);
  const tokens: SqlToken[] = [];
  let depth = 0;
  let wordStart = -1;
  let lastCode = -1;

  const push = (kind: SqlTokenKind, start: number, end: number) => {
    const text = sql.slice(start, end);
    tokens.push({ kind, text, upper: text.toUpperCase(), line: lineOf(start), depth });
  };
  const endWord = (end: number) => {
    if (wordStart >= 0) push('word', wordStart, end);
    wordStart = -1;
  };
  // visitCode reports only code characters: a jump in the index is a skipped comment or
  // quoted run, whose first character says which.
  const skipped = (start: number, end: number) => {
    const first = sql[start];
    if (first === '"' || first === '`') push(dialect === 'mysql' && first === '"' ? 'string' : 'quoted', start, end);
    else if (first === "'" || first === '$') push('string', start, end);
  };

  visitCode(sql, dialect, (index, char) => {
    if (index !== lastCode + 1) {
      endWord(lastCode + 1);
      skipped(lastCode + 1, index);
    }
    lastCode = index;
    if (WORD_CHAR.test(char)) {
      if (wordStart < 0) wordStart = index;
      return;
    }
    endWord(index);
    if (/\s/.test(char)) return;
    if (char === ')') depth = Math.max(0, depth - 1);
    push('symbol', index, index + 1);
    if (char === '(') depth += 1;
    if (char === ';') depth = 0;
  });
  endWord(lastCode + 1);
  if (lastCode + 1 < sql.length) skipped(lastCode + 1, sql.length);
  return tokens;
}

/** The statements of a script, split at `;` outside literals and comments (empty ones dropped). */
export function sqlStatements(sql: string, dialect: Dialect): SqlStatement[] {
  const statements: SqlStatement[] = [];
  let current: SqlToken[] = [];
  for (const token of tokenizeSql(sql, dialect)) {
    if (token.kind === 'symbol' && token.text === ';') {
      if (current.length > 0) statements.push({ tokens: current, line: current[0]!.line });
      current = [];
    } else {
      current.push(token);
    }
  }
  if (current.length > 0) statements.push({ tokens: current, line: current[0]!.line });
  return statements;
}

function lineIndex(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = 0; i < text.length; i += 1) if (text[i] === '\n') starts.push(i + 1);
  return (offset) => {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (starts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  };
}
