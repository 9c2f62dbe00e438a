import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { compileTypeScript, importTypeScript, TOOLKIT_ROOT } from './compile-cache.mjs';

/** A project of its own per test, its cache under the toolkit's node_modules (so packages resolve as in a real run). */
function scratchProject(files: Record<string, string>): { dir: string; cacheDir: string; write: (path: string, text: string) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tk-compile-cache-'));
  const cacheDir = mkdtempSync(join(cacheRoot, 'test-'));
  const write = (path: string, text: string) => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  for (const [path, text] of Object.entries(files)) write(path, text);
  scratch.push(dir, cacheDir);
  return { dir, cacheDir, write };
}
const cacheRoot = join(TOOLKIT_ROOT, 'node_modules', '.cache', 'trapperkeeper-deploy');
const scratch: string[] = [];

describe('the compile cache (launcher/compile-cache.mjs)', () => {
  before(() => mkdirSync(cacheRoot, { recursive: true }));
  after(() => {
    for (const path of scratch) rmSync(path, { recursive: true, force: true });
  });

  it('runs what the sources say now: an edit to any file the entry imports, TypeScript or JSON, is compiled before the next start', async () => {
    const project = scratchProject({
      'entry.ts': "import { greeting } from './lib/greeting.js';\nimport settings from './settings.json' with { type: 'json' };\nexport const message: string = `${greeting('deploy')} ${settings.level}`;\n",
      'lib/greeting.ts': "export function greeting(name: string): string { return `hello ${name}`; }\n",
      'settings.json': '{ "level": "one" }\n',
    });
    const entry = join(project.dir, 'entry.ts');
    const first = await compileTypeScript(entry, { cacheDir: project.cacheDir });
    assert.equal(first.built, true);
    assert.equal((await import(pathToFileURL(first.file).href)).message, 'hello deploy one');

    const again = await compileTypeScript(entry, { cacheDir: project.cacheDir });
    assert.deepEqual(again, { file: first.file, built: false }, 'unchanged sources: the cached build');

    project.write('lib/greeting.ts', "export function greeting(name: string): string { return `hi ${name}`; }\n");
    const edited = await compileTypeScript(entry, { cacheDir: project.cacheDir });
    assert.equal(edited.built, true);
    assert.notEqual(edited.file, first.file, 'a new build folder: the old one is never rewritten under a running process');
    assert.equal((await import(pathToFileURL(edited.file).href)).message, 'hi deploy one');

    project.write('settings.json', '{ "level": "two" }\n');
    assert.equal((await importTypeScript(entry, { cacheDir: project.cacheDir })).message, 'hi deploy two');
  });

  it("gives each module its own source's import.meta.url and dirname, so files read beside a module are found", async () => {
    const project = scratchProject({
      'entry.ts': "export { readBeside, dirOfReader } from './nested/reader.js';\n",
      'nested/reader.ts':
        "import { readFileSync } from 'node:fs';\nexport const readBeside = () => readFileSync(new URL('./data.txt', import.meta.url), 'utf8');\nexport const dirOfReader = import.meta.dirname;\n",
      'nested/data.txt': 'beside the source\n',
    });
    const compiled = await importTypeScript(join(project.dir, 'entry.ts'), { cacheDir: project.cacheDir });
    assert.equal(compiled.readBeside(), 'beside the source\n');
    assert.equal(compiled.dirOfReader, join(project.dir, 'nested'));
  });

  it('keeps dynamic imports lazy (a Docker stack must not load the AWS SDK) and packages shared with the rest of the process', async () => {
    const project = scratchProject({
      'entry.ts': "export { z } from 'zod';\nexport const loadHeavy = () => import('./heavy.js');\n",
      'heavy.ts': "(globalThis as Record<string, unknown>).tkHeavyLoaded = true;\nexport const heavy = 'loaded';\n",
    });
    const compiled = await importTypeScript(join(project.dir, 'entry.ts'), { cacheDir: project.cacheDir });
    assert.equal((globalThis as Record<string, unknown>).tkHeavyLoaded, undefined, 'not loaded with the entry');
    assert.equal((await compiled.loadHeavy()).heavy, 'loaded');
    assert.equal((globalThis as Record<string, unknown>).tkHeavyLoaded, true);
    assert.equal(compiled.z, z, "zod from the project's node_modules, the same module instance");
  });

  it('refuses to start code that does not compile, naming the file and line, and starts the fixed code', async () => {
    const project = scratchProject({ 'entry.ts': "import { value } from './broken.js';\nexport { value };\n", 'broken.ts': 'export const value = ;\n' });
    const entry = join(project.dir, 'entry.ts');
    await assert.rejects(importTypeScript(entry, { cacheDir: project.cacheDir }), (error: Error) => {
      assert.match(error.message, /^Cannot compile .*entry\.ts:/);
      assert.match(error.message, /broken\.ts:1:/);
      assert.match(error.message, /Fix the error above and run the command again\.$/);
      return true;
    });
    project.write('broken.ts', 'export const value = 42;\n');
    assert.equal((await importTypeScript(entry, { cacheDir: project.cacheDir })).value, 42);
  });

  it('forgets the builds of entry points that are gone (a removed worktree) a day after their last build, and keeps the others', async () => {
    const project = scratchProject({ 'gone.ts': 'export const gone = 1;\n', 'kept.ts': 'export const kept = 1;\n', 'other.ts': 'export const other = 1;\n' });
    const gone = await compileTypeScript(join(project.dir, 'gone.ts'), { cacheDir: project.cacheDir });
    const kept = await compileTypeScript(join(project.dir, 'kept.ts'), { cacheDir: project.cacheDir });
    const entryDirOf = (file: string) => dirname(dirname(file));
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
    for (const file of [gone.file, kept.file]) utimesSync(join(entryDirOf(file), 'index.json'), twoDaysAgo, twoDaysAgo);
    rmSync(join(project.dir, 'gone.ts'));
    await compileTypeScript(join(project.dir, 'other.ts'), { cacheDir: project.cacheDir });
    assert.equal(existsSync(entryDirOf(gone.file)), false, 'the build of the removed entry is gone');
    assert.equal(existsSync(kept.file), true, 'an old build of an entry that exists stays');
  });

  it('keeps an old build that a process started from today, even once an edit made a newer one current', async () => {
    const project = scratchProject({ 'entry.ts': "export const version = 'first';\n" });
    const entry = join(project.dir, 'entry.ts');
    const first = await compileTypeScript(entry, { cacheDir: project.cacheDir });
    const buildDir = dirname(first.file);
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
    utimesSync(buildDir, twoDaysAgo, twoDaysAgo);
    assert.equal((await compileTypeScript(entry, { cacheDir: project.cacheDir })).built, false, 'a long-running process starts from the old build today');
    project.write('entry.ts', "export const version = 'second';\n");
    assert.equal((await compileTypeScript(entry, { cacheDir: project.cacheDir })).built, true);
    assert.equal(existsSync(first.file), true, 'its chunks stay loadable');
    utimesSync(buildDir, twoDaysAgo, twoDaysAgo);
    project.write('entry.ts', "export const version = 'third';\n");
    await compileTypeScript(entry, { cacheDir: project.cacheDir });
    assert.equal(existsSync(buildDir), false, 'a build nothing started from for a day is removed');
  });

  it('lets processes that start at the same moment share one cache: each runs the code, none sees a half-written build', async () => {
    const project = scratchProject({
      'entry.ts': "import { part } from './part.js';\nprocess.stdout.write(`ran ${part}\\n`);\n",
      'part.ts': "export const part = 'all of it';\n",
    });
    const launcher = pathToFileURL(join(TOOLKIT_ROOT, 'launcher', 'compile-cache.mjs')).href;
    const script = `const { importTypeScript } = await import(${JSON.stringify(launcher)}); await importTypeScript(${JSON.stringify(join(project.dir, 'entry.ts'))}, { cacheDir: ${JSON.stringify(project.cacheDir)} });`;
    const runs = await Promise.all(
      Array.from({ length: 4 }, () => new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      })),
    );
    for (const run of runs) assert.deepEqual({ code: run.code, stdout: run.stdout }, { code: 0, stdout: 'ran all of it\n' }, run.stderr);
  });
});
