import { UserError } from '../errors.js';

/**
 * Reads a secret without it ever being on the command line (where `ps` shows it): from the
 * named environment variable, else from standard input (first line, or all of a pipe).
 */
export async function readSecret(envName: string, what: string): Promise<string> {
  const fromEnv = process.env[envName];
  if (fromEnv) return fromEnv;
  if (process.stdin.isTTY) {
    throw new UserError(
      `No ${what} given`,
      `pipe it on standard input (printf '%s' "$PASSWORD" | trapperkeeper ...) or set ${envName}`,
    );
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (text.length === 0) throw new UserError(`The ${what} read from standard input is empty`, `pipe a non-empty ${what}`);
  return text;
}
