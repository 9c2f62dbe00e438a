import { DeployError } from '../components/errors.js';
import type { StackTargetOptions } from '../providers/stack-operations.js';

/**
 * What a tkctl command gets instead of process globals, so tests (and the lead's dispatcher)
 * can run it in-process on any project folder: where to write, and the Pulumi project folder.
 * `stdin` is read only for typed confirmations and secrets piped in.
 */
export interface TkctlIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** The Pulumi project folder (Pulumi.yaml); `.trapperkeeper/` lives here too. */
  cwd: string;
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Tests only: where a cloud stack's APIs are (emulators); unset, the SDKs' defaults. */
  targets?: Pick<StackTargetOptions, 'aws' | 'gcp'>;
}

/** One tkctl command: parses its own argv (after the command name) and returns the exit code. */
export type TkctlCommand = (argv: string[], io: TkctlIo) => Promise<number>;

/** Exit codes: 0 done, 1 a problem the operator can fix (DeployError), 70 a bug in the toolkit. */
export const EXIT = { ok: 0, user: 1, bug: 70 } as const;

export function line(stream: NodeJS.WritableStream, text = ''): void {
  stream.write(`${text}\n`);
}

export function writeJson(io: TkctlIo, value: unknown): void {
  line(io.stdout, JSON.stringify(value, null, 2));
}

/**
 * Runs a command body and turns what escapes into an exit code: a DeployError prints its
 * message and fix; anything else is a bug, printed with its stack.
 */
export async function guarded(io: TkctlIo, body: () => Promise<number | void>): Promise<number> {
  try {
    return (await body()) ?? EXIT.ok;
  } catch (error) {
    if (error instanceof DeployError) {
      line(io.stderr, `error: ${error.message}`);
      return EXIT.user;
    }
    line(io.stderr, `unexpected error (a bug in tkctl): ${(error as Error)?.stack ?? String(error)}`);
    return EXIT.bug;
  }
}

/** Progress on stderr, so stdout stays what a script reads (--json). */
export function progress(io: TkctlIo, text: string): void {
  line(io.stderr, text);
}
