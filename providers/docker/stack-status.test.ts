import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stackDockerHost } from './stack-status.js';

describe('stackDockerHost: the engine tkctl and the release CLI act on', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-stack-host-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'Pulumi.alice.yaml'), 'config:\n  trapperkeeper:provider: docker\n  trapperkeeper:docker:\n    host: ssh://deploy@alice.example.com\n');
  writeFileSync(join(dir, 'Pulumi.dev.yaml'), 'config:\n  trapperkeeper:provider: docker\n');
  const exported = { DOCKER_HOST: 'unix:///run/user/1000/docker.sock' };

  it('the stack file\'s docker.host wins over an exported DOCKER_HOST, as for pulumi up', () => {
    assert.equal(stackDockerHost('alice', undefined, dir, exported), 'ssh://deploy@alice.example.com');
  });
  it('an explicit host wins over both', () => {
    assert.equal(stackDockerHost('alice', 'ssh://ops@10.0.0.5:2222', dir, exported), 'ssh://ops@10.0.0.5:2222');
  });
  it('DOCKER_HOST applies to a stack whose file names no host, or that has no file here; else the local engine', () => {
    assert.equal(stackDockerHost('dev', undefined, dir, exported), exported.DOCKER_HOST);
    assert.equal(stackDockerHost('bob', undefined, dir, exported), exported.DOCKER_HOST);
    assert.equal(stackDockerHost('dev', undefined, dir, {}), undefined);
  });
});
