import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const APP_DIR = fileURLToPath(new URL('../..', import.meta.url));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

/**
 * `npm run build` (and so the image) emits file by file without type-checking (scripts/emit.mjs);
 * what it writes must be what tsc writes, or the image would run other code than the checked one.
 */
describe('the build', () => {
  test('writes the JavaScript and source maps that tsc -p tsconfig.build.json writes, byte for byte', () => {
    // Siblings: a source map names its sources relative to its own folder.
    const scratch = mkdtempSync(join(tmpdir(), 'tk-build-'));
    try {
      const byTsc = join(scratch, 'tsc');
      const byEmit = join(scratch, 'emit');
      execFileSync(process.execPath, [createRequire(import.meta.url).resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', byTsc], { cwd: APP_DIR, stdio: 'pipe' });
      execFileSync(process.execPath, ['--input-type=module', '-e', `import { emitLikeTsc } from './scripts/emit.mjs'; emitLikeTsc(process.cwd(), ${JSON.stringify(byEmit)});`], { cwd: APP_DIR, stdio: 'pipe' });

      const files = filesUnder(byTsc);
      assert.ok(files.includes('cli/main.js') && files.includes('cli/main.js.map'), `tsc wrote: ${files.slice(0, 5).join(', ')} ...`);
      assert.deepEqual(filesUnder(byEmit), files);
      const differing = files.filter((file) => !readFileSync(join(byTsc, file)).equals(readFileSync(join(byEmit, file))));
      assert.deepEqual(differing, [], 'files whose emit differs from tsc');
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  test('fails on a syntax error and names the file, instead of writing a broken dist/', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'tk-build-'));
    try {
      mkdirSync(join(scratch, 'src'));
      for (const config of ['tsconfig.json', 'tsconfig.build.json']) copyFileSync(join(APP_DIR, config), join(scratch, config));
      writeFileSync(join(scratch, 'src', 'fine.ts'), 'export const answer: number = 42;\n');
      writeFileSync(join(scratch, 'src', 'broken.ts'), 'export const = 1;\n');
      const emit = `import { emitLikeTsc } from ${JSON.stringify(join(APP_DIR, 'scripts', 'emit.mjs'))}; emitLikeTsc(process.cwd());`;
      const failed = (() => {
        try {
          execFileSync(process.execPath, ['--input-type=module', '-e', emit], { cwd: scratch, stdio: 'pipe', encoding: 'utf8' });
          return null;
        } catch (error) {
          return (error as { stderr: string }).stderr;
        }
      })();
      assert.ok(failed !== null, 'the emit of a file with a syntax error succeeded');
      assert.match(failed, /cannot compile the app:[\s\S]*broken\.ts/);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
