// Compiles the app to dist/ and embeds the build's identity (version, git commit, date) in
// dist/build-info.json, which `trapperkeeper version`, /readyz and app_version_info report.
// In a container build there is no .git: pass TK_BUILD_COMMIT (and optionally TK_BUILD_DATE).
//
// It emits without type-checking (scripts/emit.mjs); `npm run typecheck`, part of `npm test`,
// checks the types.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { emitLikeTsc } from './emit.mjs';

const appDir = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

function gitCommit() {
  if (process.env.TK_BUILD_COMMIT) return process.env.TK_BUILD_COMMIT;
  try {
    const sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: appDir, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: appDir, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return 'unknown';
  }
}

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
try {
  emitLikeTsc(appDir);
} catch (error) {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
mkdirSync(new URL('../dist', import.meta.url), { recursive: true });
const buildInfo = {
  version: pkg.version,
  commit: gitCommit(),
  buildDate: process.env.TK_BUILD_DATE ?? new Date().toISOString(),
};
writeFileSync(new URL('../dist/build-info.json', import.meta.url), `${JSON.stringify(buildInfo, null, 2)}\n`);
console.log(`built trapperkeeper ${buildInfo.version} (${buildInfo.commit}, ${buildInfo.buildDate})`);
