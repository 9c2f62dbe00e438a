import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import type { Dialect } from './types.js';

export interface MigrationFile {
  /** The file name without `.sql`, e.g. `001_initial`. */
  id: string;
  path: string;
  sql: string;
  checksum: string;
}

/**
 * Where a dialect's migration files are. `dir` (or env TK_MIGRATIONS_DIR) may name either the
 * folder holding one sub-folder per dialect (sqlite/, postgres/, mysql/) or a folder of .sql
 * files for this dialect. Without either, the repository's migrations/ folder is found by
 * walking up from this module, which works from src/ under tsx and from a built dist/ alike.
 */
export function migrationsDir(dialect: Dialect, dir?: string): string {
  const root = dir ?? process.env.TK_MIGRATIONS_DIR ?? findRepositoryMigrations(dialect);
  const dialectDir = join(root, dialect);
  return isDirectory(dialectDir) ? dialectDir : resolve(root);
}

function findRepositoryMigrations(dialect: Dialect): string {
  let current = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(current, 'migrations');
    if (isDirectory(join(candidate, dialect))) return candidate;
    const parent = dirname(current);
    if (parent === current) {
      throw new UserError(
        `Could not find the migrations/${dialect} folder above ${fileURLToPath(import.meta.url)}`,
        'Set TK_MIGRATIONS_DIR to the folder that holds the sqlite/, postgres/ and mysql/ migration folders',
      );
    }
    current = parent;
  }
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** The dialect's migration files, in name order (which is the order they apply in). */
export function loadMigrationFiles(dialect: Dialect, dir?: string): MigrationFile[] {
  const folder = migrationsDir(dialect, dir);
  if (!isDirectory(folder)) {
    throw new UserError(`The migrations folder ${folder} does not exist`, 'Point TK_MIGRATIONS_DIR at the folder holding the migration files');
  }
  const files = readdirSync(folder)
    .filter((name) => name.endsWith('.sql'))
    .sort()
    .map((name) => {
      const path = join(folder, name);
      const sql = readFileSync(path, 'utf8');
      return { id: name.slice(0, -'.sql'.length), path, sql, checksum: migrationChecksum(sql) };
    });
  if (files.length === 0) {
    throw new UserError(`No .sql migration files in ${folder}`, 'Point TK_MIGRATIONS_DIR at the folder holding the migration files');
  }
  return files;
}

/**
 * sha256 (hex) of the file's text with CRLF line endings normalized to LF, so the same
 * migration checked out on Windows with core.autocrlf has the same checksum as on Linux.
 */
export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n'), 'utf8').digest('hex');
}
