import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rewritePlaceholders, splitStatements } from '../../src/db/sql-text.js';

const numbered = (index: number) => `$${index + 1}`;

describe('SQL lexing', () => {
  test('numbers ? placeholders outside literals, quoted names and comments', () => {
    const sql = `SELECT '?', "a?", ? -- why?\n, /* ? */ ? FROM t WHERE x = 'it''s ?' AND y = ?`;
    assert.deepEqual(rewritePlaceholders(sql, 'postgres', numbered), {
      sql: `SELECT '?', "a?", $1 -- why?\n, /* ? */ $2 FROM t WHERE x = 'it''s ?' AND y = $3`,
      count: 3,
    });
  });

  test('skips PostgreSQL dollar-quoted bodies and E-strings with backslash escapes', () => {
    const sql = `SELECT $$ ? $$, $tag$ it's ? $tag$, E'\\' ?', ?`;
    assert.equal(rewritePlaceholders(sql, 'postgres', numbered).sql, `SELECT $$ ? $$, $tag$ it's ? $tag$, E'\\' ?', $1`);
  });

  test('honours MySQL backslash escapes and # comments', () => {
    const sql = `SELECT 'a\\' ?', ? # trailing ?\n, ?`;
    assert.equal(rewritePlaceholders(sql, 'mysql', () => 'X').sql, `SELECT 'a\\' ?', X # trailing ?\n, X`);
  });

  test('splits a script at semicolons outside literals and comments, dropping empty pieces', () => {
    const script = `-- header; comment\nCREATE TABLE a (x TEXT DEFAULT ';');\n\nINSERT INTO a VALUES ('1;2'); /* done; */\n-- trailing only\n`;
    assert.deepEqual(splitStatements(script, 'sqlite'), [
      `-- header; comment\nCREATE TABLE a (x TEXT DEFAULT ';')`,
      `INSERT INTO a VALUES ('1;2')`,
    ]);
  });
});
