import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify as stringifyYaml } from 'yaml';
import { MINIMAL_AWS_SECTION } from './testing.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The release CLI and tkctl on an AWS stack in a scratch folder, with only the environment given. */
function run(dir: string, script: string, args: string[], env: NodeJS.ProcessEnv) {
  const result = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), join(REPO_ROOT, script), ...args], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: dir, ...env } });
  return { code: result.status, stderr: result.stderr };
}

describe('an AWS stack whose API cannot be used says what failed and what to run', { timeout: 120_000 }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tk-aws-errors-'));
    writeFileSync(join(dir, 'Pulumi.edge.yaml'), stringifyYaml({ config: { 'trapperkeeper:provider': 'aws', 'trapperkeeper:aws': MINIMAL_AWS_SECTION } }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('without credentials: names the stack and region, and the login command', () => {
    const noCredentials = { AWS_CONFIG_FILE: join(dir, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'), AWS_EC2_METADATA_DISABLED: 'true' };
    for (const [script, args] of [
      ['providers/release-cli.ts', ['status', '--stack', 'edge']],
      ['tkctl/main.ts', ['status', '--stack', 'edge']],
    ] as const) {
      const result = run(dir, script, [...args], noCredentials);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /Stack edge is on AWS \(eu-west-1\), and no AWS credentials were found/);
      assert.match(result.stderr, /fix: aws sso login \(with AWS_PROFILE set to your profile\) or aws configure, then check with: aws sts get-caller-identity/);
    }
  });

  it('with an endpoint nobody answers on: says it cannot be reached, and how to check', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const result = run(dir, 'providers/release-cli.ts', ['lock', 'status', '--stack', 'edge'], { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /Stack edge: the AWS API in eu-west-1 cannot be reached \(ECONNREFUSED/);
    assert.match(result.stderr, new RegExp(`fix: check the network and any AWS_ENDPOINT_URL in the environment \\(http://127.0.0.1:${port}\\), then: aws sts get-caller-identity --region eu-west-1`));
  });
});
