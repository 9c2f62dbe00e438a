/**
 * The README's tkctl lines against the tkctl of this checkout: every `tkctl ...` line of a code
 * block, and every command and option the tkctl table names, must parse (run with --help, which
 * checks the command and each option before it prints the usage). A renamed command or option
 * fails here, not for a maintainer following the README. Needs no Pulumi CLI and no Docker.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { COMMANDS } from '../../tkctl/main.js';
import { REPO_ROOT } from '../support/images.js';
import { runTkctlInProcess } from './harness.js';

const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

/** A shell line's words: quotes removed, a trailing comment and `< file` redirections dropped. */
function words(line: string): string[] {
  const out: string[] = [];
  for (const match of line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) {
    const word = match[1] ?? match[2] ?? match[3]!;
    if (match[3] === '#' || match[3]?.startsWith('#')) break;
    out.push(word);
  }
  const redirect = out.indexOf('<');
  return redirect >= 0 ? [...out.slice(0, redirect), ...out.slice(redirect + 2)] : out;
}

/** Every line of a ```sh block that runs tkctl. */
function codeBlockLines(): string[] {
  return [...README.matchAll(/```sh\n([^]*?)```/g)].flatMap((block) => block[1]!.split('\n').map((line) => line.trim()).filter((line) => line.startsWith('tkctl ')));
}

/** The tkctl table (README "tkctl, the operator CLI"): each row's command and the options its code spans name. */
function tableRows(): { command: string; options: string[] }[] {
  const section = /### tkctl, the operator CLI\n([^]*?)\n### /.exec(README)?.[1];
  assert.ok(section, 'the README has the tkctl section');
  const rows = section.split('\n').filter((line) => line.startsWith('| `'));
  return rows.map((row) => ({
    command: /^\| `([a-z]+)/.exec(row)![1]!,
    // Spans that quote another program's command line (pulumi stack export --show-secrets) are not tkctl's.
    options: [...new Set([...row.matchAll(/`([^`]*)`/g)].filter((span) => !/^(pulumi|ssh|git|docker|npm) /.test(span[1]!)).flatMap((span) => span[1]!.match(/--[a-z][a-z-]*/g) ?? []))],
  }));
}

async function assertParses(argv: string[]): Promise<void> {
  const run = await runTkctlInProcess([...argv, '--help'], REPO_ROOT);
  assert.equal(run.code, 0, `tkctl ${argv.join(' ')} --help: ${run.stderr}`);
  assert.match(run.stdout, new RegExp(`^usage: tkctl ${argv[0]}`, 'i'), `tkctl ${argv.join(' ')} --help prints its usage`);
}

describe('the README\'s tkctl lines', () => {
  it('every tkctl line of a code block names a command and options that exist', async () => {
    const lines = codeBlockLines();
    assert.ok(lines.length >= 15, `the README shows the tkctl lifecycle (found ${lines.length} lines)`);
    for (const line of lines) {
      const [, ...argv] = words(line);
      assert.ok(Object.hasOwn(COMMANDS, argv[0]!), `${line}: no command ${argv[0]}`);
      await assertParses(argv);
    }
  });

  it('every command of the tkctl table exists, with each option its row shows', async () => {
    const rows = tableRows();
    assert.deepEqual(new Set(rows.map((row) => row.command)), new Set(Object.keys(COMMANDS).filter((name) => name !== 'migrations')), 'one row per command (migrations has its own section)');
    for (const { command, options } of rows) {
      for (const option of options) {
        // An option that takes a value says so when given none; only an unknown one is a gap.
        const alone = await runTkctlInProcess([command, option, '--help'], REPO_ROOT);
        if (alone.code !== 0 && /argument is ambiguous|argument missing/.test(alone.stderr)) await assertParses([command, option, 'x']);
        else assert.equal(alone.code, 0, `tkctl ${command} ${option} --help: ${alone.stderr}`);
      }
    }
  });

  it('a renamed option does not parse, so the checks above can fail', async () => {
    const run = await runTkctlInProcess(['rollback', '--previous', '--help'], REPO_ROOT);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /tkctl rollback: Unknown option '--previous'/);
  });
});
