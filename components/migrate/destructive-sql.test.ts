import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Dialect } from '../../app/src/db/types.js';
import { findDestructiveStatements, type DestructiveRule } from './destructive-sql.js';

type Case = { sql: string; dialect?: Dialect; expect: Array<[DestructiveRule, number, string]> };

/** Each rule firing, on statements written the way migrations write them. */
const FIRING: Record<string, Case> = {
  'DROP TABLE': { sql: 'DROP TABLE sessions;', expect: [['drop-table', 1, 'DROP TABLE sessions']] },
  'DROP TABLE IF EXISTS with two tables (one per finding)': {
    sql: 'DROP TABLE IF EXISTS old_events, public.old_rules CASCADE;',
    expect: [['drop-table', 1, 'DROP TABLE old_events'], ['drop-table', 1, 'DROP TABLE public.old_rules']],
  },
  'DROP COLUMN': { sql: 'ALTER TABLE users\n  DROP COLUMN last_login_at;', expect: [['drop-column', 2, 'DROP COLUMN users.last_login_at']] },
  'DROP without COLUMN (MySQL, PostgreSQL)': {
    sql: 'ALTER TABLE users DROP last_login_at;',
    dialect: 'mysql',
    expect: [['drop-column', 1, 'DROP COLUMN users.last_login_at']],
  },
  'DROP COLUMN IF EXISTS on a quoted table': {
    sql: 'ALTER TABLE IF EXISTS ONLY "users" DROP COLUMN IF EXISTS "is_admin";',
    expect: [['drop-column', 1, 'DROP COLUMN "users"."is_admin"']],
  },
  'ALTER COLUMN TYPE (PostgreSQL)': {
    sql: 'ALTER TABLE events ALTER COLUMN payload TYPE JSONB USING payload::jsonb;',
    expect: [['column-type-change', 1, 'ALTER COLUMN events.payload TYPE']],
  },
  'ALTER COLUMN SET DATA TYPE': {
    sql: 'ALTER TABLE events ALTER payload SET DATA TYPE TEXT;',
    expect: [['column-type-change', 1, 'ALTER COLUMN events.payload TYPE']],
  },
  'MODIFY COLUMN (MySQL)': {
    sql: 'ALTER TABLE users MODIFY COLUMN username VARCHAR(64) NOT NULL;',
    dialect: 'mysql',
    expect: [['column-type-change', 1, 'MODIFY COLUMN users.username (redefines its type)']],
  },
  'CHANGE COLUMN renaming (MySQL)': {
    sql: 'ALTER TABLE users CHANGE username login VARCHAR(128) NOT NULL;',
    dialect: 'mysql',
    expect: [
      ['rename', 1, 'CHANGE COLUMN users.username to login'],
      ['column-type-change', 1, 'CHANGE COLUMN users.username (redefines its type)'],
    ],
  },
  'ADD COLUMN NOT NULL without DEFAULT': {
    sql: 'ALTER TABLE rules ADD COLUMN priority INTEGER NOT NULL;',
    expect: [['add-not-null-without-default', 1, 'ADD COLUMN rules.priority NOT NULL without DEFAULT']],
  },
  'ADD NOT NULL in a MySQL column list, beside one with a default': {
    sql: 'ALTER TABLE rules ADD (priority INT NOT NULL, weight DECIMAL(10,2) NOT NULL DEFAULT 1.0);',
    dialect: 'mysql',
    expect: [['add-not-null-without-default', 1, 'ADD COLUMN rules.priority NOT NULL without DEFAULT']],
  },
  'SET NOT NULL': {
    sql: 'ALTER TABLE users ALTER COLUMN last_login_at SET NOT NULL;',
    expect: [['set-not-null', 1, 'ALTER COLUMN users.last_login_at SET NOT NULL']],
  },
  'RENAME TO (table)': { sql: 'ALTER TABLE rules RENAME TO rule_sets;', expect: [['rename', 1, 'RENAME TABLE rules to rule_sets']] },
  'RENAME COLUMN': {
    sql: 'ALTER TABLE rules RENAME COLUMN name TO title;',
    dialect: 'sqlite',
    expect: [['rename', 1, 'RENAME COLUMN rules.name to title']],
  },
  'RENAME TABLE (MySQL)': { sql: 'RENAME TABLE rules TO rule_sets;', dialect: 'mysql', expect: [['rename', 1, 'RENAME TABLE rules TO rule_sets']] },
  TRUNCATE: { sql: 'TRUNCATE TABLE events;', expect: [['truncate', 1, 'TRUNCATE events']] },
  'TRUNCATE without TABLE': { sql: 'truncate events, sessions;', expect: [['truncate', 1, 'TRUNCATE events'], ['truncate', 1, 'TRUNCATE sessions']] },
  'DELETE without WHERE': { sql: '\n\nDELETE FROM sessions;', expect: [['delete-without-where', 3, 'DELETE FROM sessions without WHERE']] },
  'DELETE whose only WHERE is in a subquery of USING': {
    sql: 'DELETE FROM sessions USING (SELECT id FROM users WHERE is_admin = 1) AS admins;',
    expect: [['delete-without-where', 1, 'DELETE FROM sessions without WHERE']],
  },
  'several actions in one ALTER TABLE, each on its line': {
    sql: 'ALTER TABLE users\n  ADD COLUMN email VARCHAR(255) NULL,\n  DROP COLUMN is_admin,\n  RENAME COLUMN username TO login;',
    expect: [
      ['drop-column', 3, 'DROP COLUMN users.is_admin'],
      ['rename', 4, 'RENAME COLUMN users.username to login'],
    ],
  },
  'lower case keywords': { sql: 'alter table users drop column email;', expect: [['drop-column', 1, 'DROP COLUMN users.email']] },
};

/** Statements that look like the rules but are safe, or are not code at all. */
const NOT_FIRING: Record<string, Case> = {
  'CREATE TABLE with NOT NULL columns': { sql: 'CREATE TABLE t (id CHAR(36) PRIMARY KEY, name TEXT NOT NULL);', expect: [] },
  'ADD COLUMN NOT NULL with a DEFAULT': { sql: "ALTER TABLE rules ADD COLUMN priority INTEGER NOT NULL DEFAULT 0, ADD COLUMN note TEXT DEFAULT 'x' NOT NULL;", expect: [] },
  'ADD COLUMN nullable': { sql: 'ALTER TABLE rules ADD COLUMN note TEXT;', expect: [] },
  'ADD generated and identity columns': {
    sql: 'ALTER TABLE rules ADD COLUMN n INT GENERATED ALWAYS AS (1) STORED NOT NULL, ADD COLUMN id2 BIGINT GENERATED BY DEFAULT AS IDENTITY NOT NULL;',
    expect: [],
  },
  'ADD CONSTRAINT with a NOT NULL check': { sql: 'ALTER TABLE rules ADD CONSTRAINT c CHECK (name IS NOT NULL);', expect: [] },
  'DROP CONSTRAINT, DROP INDEX, DROP DEFAULT, DROP NOT NULL': {
    sql: 'ALTER TABLE users DROP CONSTRAINT users_fk, ALTER COLUMN name DROP DEFAULT, ALTER COLUMN name DROP NOT NULL; DROP INDEX users_username;',
    expect: [],
  },
  'MySQL DROP FOREIGN KEY, DROP PRIMARY KEY, RENAME INDEX': {
    sql: 'ALTER TABLE users DROP FOREIGN KEY fk_1, DROP PRIMARY KEY, RENAME INDEX a TO b;',
    dialect: 'mysql',
    expect: [],
  },
  'DELETE with WHERE': { sql: "DELETE FROM sessions WHERE expires_at < CURRENT_TIMESTAMP;", expect: [] },
  'ON DELETE CASCADE and a column named truncate_at': {
    sql: 'CREATE TABLE s (user_id CHAR(36) REFERENCES users (id) ON DELETE CASCADE, truncate_at TIMESTAMP, drop_count INT);',
    expect: [],
  },
  'DROP TEMPORARY TABLE (MySQL)': { sql: 'DROP TEMPORARY TABLE scratch;', dialect: 'mysql', expect: [] },
  'keywords in -- and /* */ comments': {
    sql: '-- DROP TABLE users;\n/* ALTER TABLE users DROP COLUMN email;\n   TRUNCATE events; */\nCREATE INDEX e ON events (at); -- DELETE FROM events;',
    expect: [],
  },
  'keywords in # comments (MySQL)': { sql: '# DROP TABLE users;\nCREATE INDEX e ON events (at);', dialect: 'mysql', expect: [] },
  'keywords and semicolons in string literals': {
    sql: "INSERT INTO notes (body) VALUES ('DROP TABLE users; DELETE FROM events; ALTER TABLE t DROP COLUMN c');\nUPDATE notes SET body = 'it''s; TRUNCATE x' WHERE id = 1;",
    expect: [],
  },
  'keywords in a PostgreSQL E-string with an escaped quote': { sql: "INSERT INTO notes VALUES (E'it\\'s; DROP TABLE users');", expect: [] },
  'keywords in a MySQL string with a backslash-escaped quote': {
    sql: "INSERT INTO notes VALUES ('it\\'s; DROP TABLE users; --');",
    dialect: 'mysql',
    expect: [],
  },
  'keywords in PostgreSQL dollar quoting': { sql: "COMMENT ON TABLE users IS $doc$ DROP TABLE users; TRUNCATE x $doc$;", expect: [] },
  'a quoted identifier named like a keyword': { sql: 'ALTER TABLE t ADD COLUMN "drop" TEXT; CREATE TABLE "truncate" (id INT);', expect: [] },
};

function check(cases: Record<string, Case>) {
  for (const [title, { sql, dialect = 'postgres', expect }] of Object.entries(cases)) {
    it(title, () => {
      const found = findDestructiveStatements(sql, dialect).map((f) => [f.rule, f.line, f.summary]);
      assert.deepEqual(found, expect);
    });
  }
}

describe('destructive SQL: each rule fires', () => check(FIRING));
describe('destructive SQL: safe statements, comments and literals do not fire', () => check(NOT_FIRING));

describe('destructive SQL on the repository migrations', () => {
  it("the released initial migrations have no destructive statement (they create, they don't drop)", () => {
    for (const dialect of ['postgres', 'mysql', 'sqlite'] as const) {
      const folder = new URL(`../../migrations/${dialect}/`, import.meta.url);
      for (const name of readdirSync(folder).filter((file) => file.endsWith('.sql'))) {
        assert.deepEqual(findDestructiveStatements(readFileSync(new URL(name, folder), 'utf8'), dialect), [], `${dialect}/${name}`);
      }
    }
  });
  it('every finding carries the risk it names', () => {
    const [finding] = findDestructiveStatements('DROP TABLE users;', 'sqlite');
    assert.match(finding!.risk, /rows are gone/);
  });
});
