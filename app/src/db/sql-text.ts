import type { Dialect } from './types.js';

/**
 * A small lexer over SQL text that knows where string literals, quoted identifiers and
 * comments are, so `?` placeholders and `;` statement ends are only recognised in code.
 *
 * It understands: '...' strings ('' doubling everywhere; backslash escapes on MySQL and in
 * PostgreSQL E'...' strings), "..." and `...` quoting, -- and /* *\/ comments, # comments on
 * MySQL, and $tag$...$tag$ dollar quoting on PostgreSQL. It does not understand procedural
 * bodies (BEGIN ... END blocks of triggers and procedures): a `;` inside one ends the
 * statement early, so migration files must not use them.
 * Exported for the toolkit's migration analysis (components/migrate/sql-tokens.ts), which needs
 * the same idea of what is code.
 */
export function visitCode(sql: string, dialect: Dialect, onCode: (index: number, char: string) => void): void {
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      i = skipPast(sql, i + 2, '\n');
    } else if (c === '#' && dialect === 'mysql') {
      i = skipPast(sql, i + 1, '\n');
    } else if (c === '/' && next === '*') {
      i = skipPast(sql, i + 2, '*/');
    } else if (c === "'") {
      const backslashes = dialect === 'mysql' || (dialect === 'postgres' && isEStringPrefix(sql, i));
      i = skipQuoted(sql, i, "'", backslashes);
    } else if (c === '"') {
      i = skipQuoted(sql, i, '"', dialect === 'mysql');
    } else if (c === '`') {
      i = skipQuoted(sql, i, '`', false);
    } else if (c === '$' && dialect === 'postgres' && !isIdentifierChar(sql[i - 1])) {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 66));
      if (tag) {
        i = skipPast(sql, i + tag[0].length, tag[0]);
      } else {
        onCode(i, c);
        i += 1;
      }
    } else {
      onCode(i, c);
      i += 1;
    }
  }
}

function skipPast(sql: string, from: number, terminator: string): number {
  const end = sql.indexOf(terminator, from);
  return end < 0 ? sql.length : end + terminator.length;
}

/** Index just past the closing quote; a doubled quote is an escaped quote. */
function skipQuoted(sql: string, open: number, quote: string, backslashEscapes: boolean): number {
  let i = open + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (backslashEscapes && c === '\\') {
      i += 2;
    } else if (c === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i += 1;
    }
  }
  return sql.length;
}

function isEStringPrefix(sql: string, quoteIndex: number): boolean {
  const prefix = sql[quoteIndex - 1];
  return (prefix === 'E' || prefix === 'e') && !isIdentifierChar(sql[quoteIndex - 2]);
}

function isIdentifierChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_$]/.test(c);
}

/**
 * Replaces each `?` placeholder outside literals and comments with `replace(n)`, n counting
 * from 0, and returns the new text and how many placeholders it found.
 */
export function rewritePlaceholders(
  sql: string,
  dialect: Dialect,
  replace: (index: number) => string,
): { sql: string; count: number } {
  let out = '';
  let copiedUpTo = 0;
  let count = 0;
  visitCode(sql, dialect, (index, char) => {
    if (char !== '?') return;
    out += sql.slice(copiedUpTo, index) + replace(count);
    copiedUpTo = index + 1;
    count += 1;
  });
  return { sql: out + sql.slice(copiedUpTo), count };
}

/**
 * Splits a script into statements at each `;` outside literals and comments. Pieces that
 * hold only whitespace and comments are dropped. See visitCode for what is not understood.
 */
export function splitStatements(script: string, dialect: Dialect): string[] {
  const pieces: string[] = [];
  let start = 0;
  visitCode(script, dialect, (index, char) => {
    if (char !== ';') return;
    pieces.push(script.slice(start, index));
    start = index + 1;
  });
  pieces.push(script.slice(start));
  return pieces.map((piece) => piece.trim()).filter((piece) => hasCode(piece, dialect));
}

function hasCode(piece: string, dialect: Dialect): boolean {
  let found = false;
  visitCode(piece, dialect, (_index, char) => {
    if (!/\s/.test(char)) found = true;
  });
  return found;
}
