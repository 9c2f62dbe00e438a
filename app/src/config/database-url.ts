import { DATABASE_URL_SCHEMES } from './defaults.js';

/*
 * Database URLs may carry a password, so nothing here ever puts the URL, or any part
 * of it but the scheme, into a message.
 */

export type DatabaseScheme = (typeof DATABASE_URL_SCHEMES)[number];

const SCHEME_PATTERN = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/** Why the URL cannot be used, or undefined when it can. */
export function databaseUrlProblem(url: string): string | undefined {
  const match = SCHEME_PATTERN.exec(url);
  if (!match) return 'has no scheme (it must start with sqlite://, postgres://, postgresql:// or mysql://)';
  const scheme = (match[1] ?? '').toLowerCase();
  if (!(DATABASE_URL_SCHEMES as readonly string[]).includes(scheme)) {
    return `uses the unsupported scheme "${scheme.slice(0, 20)}:"`;
  }
  if (scheme === 'sqlite') {
    return url.slice('sqlite:'.length).replace(/^\/\//, '') === '' ? 'names no SQLite file' : undefined;
  }
  const parsed = parseUrl(url);
  if (!parsed) return 'is not a valid URL';
  if (parsed.hostname === '') return 'names no host';
  return undefined;
}

export function databaseUrlScheme(url: string): DatabaseScheme | undefined {
  const scheme = SCHEME_PATTERN.exec(url)?.[1]?.toLowerCase();
  return (DATABASE_URL_SCHEMES as readonly string[]).includes(scheme ?? '') ? (scheme as DatabaseScheme) : undefined;
}

/** True when the URL carries a password, in the user-info part or as a `password` query parameter. */
export function databaseUrlHasPassword(url: string): boolean {
  if (databaseUrlScheme(url) === 'sqlite') return false;
  const parsed = parseUrl(url);
  if (!parsed) return /^[^/]*\/\/[^/@]*:[^/@]*@/.test(url);
  return parsed.password !== '' || parsed.searchParams.has('password');
}

/** Puts `password` into the user-info of a server URL (postgres, mysql). */
export function withDatabasePassword(url: string, password: string): string {
  const parsed = parseUrl(url);
  if (!parsed) return url;
  parsed.password = encodeURIComponent(password);
  return parsed.href;
}

/** The `sslmode` query parameter of a server URL, or undefined when it has none. */
export function databaseUrlSslMode(url: string): string | undefined {
  return parseUrl(url)?.searchParams.get('sslmode') ?? undefined;
}

function parseUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}
