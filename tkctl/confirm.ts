import { createInterface } from 'node:readline';
import { DeployError } from '../components/errors.js';
import type { TkctlIo } from './io.js';

/**
 * A typed confirmation: the operator types `expected` (the stack's name) on stdin, or passes
 * `--confirm <expected>` for a script. Anything else refuses, and nothing has changed.
 */
export async function confirmByTyping(io: TkctlIo, options: { what: string; expected: string; given?: string; retry: string }): Promise<void> {
  let answer = options.given;
  if (answer === undefined) {
    if (!io.stdin) throw new DeployError(`${options.what} needs a typed confirmation and no input is attached`, options.retry);
    io.stderr.write(`${options.what}\nType the stack name (${options.expected}) to continue: `);
    answer = await readLine(io.stdin);
    io.stderr.write('\n');
  }
  if (answer.trim() !== options.expected) {
    throw new DeployError(`Not confirmed (expected "${options.expected}", got "${answer.trim()}"); nothing was changed`, options.retry);
  }
}

function readLine(input: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    const lines = createInterface({ input, terminal: false });
    let done = false;
    const finish = (text: string) => {
      if (done) return;
      done = true;
      lines.close();
      resolve(text);
    };
    lines.once('line', finish);
    lines.once('close', () => finish(''));
  });
}
