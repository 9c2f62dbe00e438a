import { databaseUrlHasPassword } from './database-url.js';

/*
 * Files get copied, committed and read by backup jobs; secrets come only from the
 * environment or the command line. A file holding one is refused outright.
 */

const SECRET_KEY_PATTERN = /(^|_)(secret|key|password|token)$/i;

/** Dotted paths of every key in a parsed TOML document that holds, or is named like, a secret. */
export function findSecretsInFile(document: Record<string, unknown>): string[] {
  const found: string[] = [];
  walk(document, [], found);
  const database = document['database'];
  if (isTable(database) && typeof database['url'] === 'string' && databaseUrlHasPassword(database['url'])) {
    found.push('database.url');
  }
  return found;
}

function walk(value: unknown, path: string[], found: string[]): void {
  if (Array.isArray(value)) {
    value.forEach((item, index) => walk(item, [...path, String(index)], found));
    return;
  }
  if (!isTable(value)) return;
  for (const [key, child] of Object.entries(value)) {
    if (SECRET_KEY_PATTERN.test(key)) found.push([...path, key].join('.'));
    else walk(child, [...path, key], found);
  }
}

export function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** How to move a secret found at `key` out of the file. */
export function secretInFileFix(key: string): string {
  if (key === 'database.url') {
    return 'remove the password from the URL in the file and set it in TK_DATABASE_PASSWORD (or set the whole URL in TK_DATABASE_URL)';
  }
  if (/(^|_|\.)hmac_secret$/i.test(key)) {
    return 'delete it from the file and set TK_HMAC_SECRET in the environment instead';
  }
  return 'delete it from the file (secrets are read only from environment variables or command-line flags)';
}
