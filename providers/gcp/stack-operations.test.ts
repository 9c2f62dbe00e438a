import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('a GCP stack without Google credentials (or Google\'s APIs) says what failed and what to run', { timeout: 120_000 }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tk-gcp-errors-'));
    copyFileSync(join(REPO_ROOT, 'Pulumi.gcp-demo.yaml'), join(dir, 'Pulumi.gcp-demo.yaml'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [script, args] of [
    ['providers/release-cli.ts', ['status', '--stack', 'gcp-demo']],
    ['tkctl/main.ts', ['snapshots', 'list', '--stack', 'gcp-demo']],
  ] as const) {
    it(`${script} ${args.join(' ')}`, () => {
      // No application default credentials in HOME, none in the environment, no metadata server.
      const result = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), join(REPO_ROOT, script), ...args], {
        cwd: dir,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: dir, METADATA_SERVER_DETECTION: 'none' },
      });
      assert.equal(result.status, 1, result.stderr);
      // Cloud Run's client refuses without credentials; Cloud Storage's may go on unauthenticated,
      // and then meets no network (offline, as here) or a 401: whichever call fails first is reported.
      assert.match(
        result.stderr,
        /^error: Stack gcp-demo(?: is on GCP, project tk-demo-123456 \(europe-west1\), and no usable Google credentials were found|: the Google Cloud APIs for project tk-demo-123456 \(europe-west1\) cannot be reached|: Google Cloud refused a call in project tk-demo-123456)/m,
      );
      assert.match(result.stderr, /fix: (?:gcloud auth application-default login|check the network, then: gcloud run services list --project tk-demo-123456 --region europe-west1|use an account that may read)/);
      assert.doesNotMatch(result.stderr, /unexpected error/);
    });
  }
});
