import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DeployError } from '../../components/errors.js';
import { planAppImageBuild } from './image.js';
import { planImageTag, readAppVersion, readGitFacts, tagTimestamp } from './image-tag.js';
import { CLEAN_GIT } from './testing.js';

const NOW = new Date('2026-11-24T08:00:00.123Z');

describe('image tag', () => {
  it('is <semver>-<short sha>-<commit time>, the same for the same commit whenever it is built', () => {
    const first = planImageTag({ version: '1.4.0', git: CLEAN_GIT, now: NOW }, { allowDirty: false });
    const later = planImageTag({ version: '1.4.0', git: CLEAN_GIT, now: new Date('2027-01-01T00:00:00Z') }, { allowDirty: false });
    assert.deepEqual(first, {
      tag: '1.4.0-0123abcd-20261123T101500Z',
      version: '1.4.0',
      commit: CLEAN_GIT.commit,
      created: '2026-11-23T10:15:00.000Z',
      dirty: false,
    });
    assert.deepEqual(later, first);
  });

  it('keeps a prerelease version in the tag', () => {
    assert.equal(planImageTag({ version: '2.0.0-rc.1', git: CLEAN_GIT, now: NOW }, { allowDirty: false }).tag, '2.0.0-rc.1-0123abcd-20261123T101500Z');
  });

  it('refuses a dirty tree, naming the changed files and both fixes', () => {
    const git = { ...CLEAN_GIT, dirtyFiles: ['app/src/cli/main.ts', 'migrations/postgres/004_new.sql'] };
    assert.throws(
      () => planImageTag({ version: '1.4.0', git, now: NOW }, { allowDirty: false }),
      (error: unknown) =>
        error instanceof DeployError &&
        error.message.includes('uncommitted changes in app/src/cli/main.ts, migrations/postgres/004_new.sql') &&
        error.fix === "commit them (git add -A && git commit), or build them as a dirty release: pulumi config set --path 'release.allowDirty' true",
    );
  });

  it('tags an allowed dirty build ...-dirty-<now>, so it never passes for the commit', () => {
    const git = { ...CLEAN_GIT, dirtyFiles: ['app/src/cli/main.ts'] };
    assert.deepEqual(planImageTag({ version: '1.4.0', git, now: NOW }, { allowDirty: true }), {
      tag: '1.4.0-0123abcd-20261123T101500Z-dirty-20261124T080000Z',
      version: '1.4.0',
      commit: CLEAN_GIT.commit,
      created: '2026-11-24T08:00:00.123Z',
      dirty: true,
    });
  });

  it('refuses a version that is not semver or cannot be part of a Docker tag', () => {
    for (const version of ['1.4', 'v1.4.0', '1.4.0+build.5', '']) {
      assert.throws(() => planImageTag({ version, git: CLEAN_GIT, now: NOW }, { allowDirty: false }), DeployError, version);
    }
  });

  it('refuses a version other than the one the stack is pinned to', () => {
    assert.throws(
      () => planImageTag({ version: '1.5.0', git: CLEAN_GIT, now: NOW }, { allowDirty: false, pinnedVersion: '1.4.0' }),
      (error: unknown) => error instanceof DeployError && /pinned to version 1\.4\.0 .* app\/package\.json is 1\.5\.0/.test(error.message),
    );
  });

  it('formats timestamps as UTC seconds', () => {
    assert.equal(tagTimestamp(new Date('2026-01-02T03:04:05.678Z')), '20260102T030405Z');
  });

  it('reads the commit, its time and the dirty image sources from git, ignoring files outside the image', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tk-git-'));
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim();
    try {
      mkdirSync(join(dir, 'app', 'src'), { recursive: true });
      mkdirSync(join(dir, 'app', 'test'), { recursive: true });
      writeFileSync(join(dir, 'app', 'package.json'), '{"name":"trapperkeeper","version":"0.3.1"}\n');
      writeFileSync(join(dir, 'app', 'src', 'main.ts'), 'export {};\n');
      writeFileSync(join(dir, 'Pulumi.dev.yaml'), 'config: {}\n');
      git('init', '-q');
      git('add', '-A');
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'init'], {
        cwd: dir,
        env: { ...process.env, GIT_COMMITTER_DATE: '2026-11-23T10:15:00Z', GIT_AUTHOR_DATE: '2026-11-23T10:15:00Z' },
      });
      const head = git('rev-parse', 'HEAD');

      assert.deepEqual(readGitFacts(dir), { commit: head, committedAt: new Date('2026-11-23T10:15:00Z'), dirtyFiles: [] });
      assert.equal(readAppVersion(dir), '0.3.1');

      writeFileSync(join(dir, 'Pulumi.dev.yaml'), 'config: { changed: true }\n');
      writeFileSync(join(dir, 'app', 'test', 'x.test.ts'), 'export {};\n');
      assert.deepEqual(readGitFacts(dir).dirtyFiles, []);

      writeFileSync(join(dir, 'app', 'src', 'main.ts'), 'export const changed = 1;\n');
      writeFileSync(join(dir, 'app', 'src', 'new.ts'), 'export {};\n');
      assert.deepEqual(readGitFacts(dir).dirtyFiles.sort(), ['app/src/main.ts', 'app/src/new.ts']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('explains what to do outside a git checkout', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tk-nogit-'));
    try {
      assert.throws(() => readGitFacts(dir), (error: unknown) => error instanceof DeployError && /git checkout with at least one commit/.test(error.fix ?? ''));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('app image build', () => {
  it('builds app/Dockerfile from the repository root with the configured bases and public metadata only', () => {
    const tag = planImageTag({ version: '1.4.0', git: CLEAN_GIT, now: NOW }, { allowDirty: false });
    assert.deepEqual(planAppImageBuild({ prefix: 'tk-prod', tag, images: { appBuildBase: 'node:20-bookworm', appRuntimeBase: 'node:20-bookworm-slim' } }), {
      imageName: 'tk-prod/trapperkeeper:1.4.0-0123abcd-20261123T101500Z-bf4c6b54b',
      context: '.',
      dockerfile: 'app/Dockerfile',
      args: {
        BUILD_IMAGE: 'node:20-bookworm',
        RUNTIME_IMAGE: 'node:20-bookworm-slim',
        VERSION: '1.4.0',
        REVISION: CLEAN_GIT.commit,
        CREATED: '2026-11-23T10:15:00.000Z',
      },
    });
  });

  it('tags another base image as another image, so a tag never gets new contents', () => {
    const tag = planImageTag({ version: '1.4.0', git: CLEAN_GIT, now: NOW }, { allowDirty: false });
    const names = [
      { appBuildBase: 'node:20-bookworm', appRuntimeBase: 'node:20-bookworm-slim' },
      { appBuildBase: 'node:20-bookworm', appRuntimeBase: 'node:22-bookworm-slim' },
      { appBuildBase: 'node:22-bookworm', appRuntimeBase: 'node:20-bookworm-slim' },
    ].map((images) => planAppImageBuild({ prefix: 'tk-prod', tag, images }).imageName);
    assert.equal(new Set(names).size, 3, names.join(' '));
    for (const name of names) assert.match(name, /^tk-prod\/trapperkeeper:1\.4\.0-0123abcd-20261123T101500Z-b[0-9a-f]{8}$/);
  });
});
