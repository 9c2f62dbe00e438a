// Runs every *.test.ts under the given folders of the current package with Node's test runner
// (tsx compiles on the fly): `node run-tests.mjs --dirs src,test [substring...]`. Substrings
// keep only the files whose path contains one of them (`npm test -- test/grpc`).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const packageDir = process.cwd();

function findTests(dir) {
  const found = [];
  if (!existsSync(dir)) return found;
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (entry.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

const args = process.argv.slice(2);
const dirsAt = args.indexOf('--dirs');
const dirs = dirsAt >= 0 ? args.splice(dirsAt, 2)[1].split(',') : ['src', 'test'];
const filters = args;
const files = dirs
  .flatMap((dir) => findTests(join(packageDir, dir)))
  .map((file) => relative(packageDir, file))
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();

if (files.length === 0) {
  console.error(`No test files match ${filters.join(', ')}`);
  process.exit(1);
}

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=900000', ...files],
  { cwd: packageDir, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
