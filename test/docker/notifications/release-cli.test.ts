/**
 * The release CLI as `pulumi up` runs it, with TK_NOTIFY set: a real process against the real
 * Docker engine, on a stack whose infrastructure does not exist, so the release starts, takes
 * the lock and fails fast (no Caddy). Real receivers on 127.0.0.1: one that verifies signatures,
 * one that always answers 500, one that never answers. The release's outcome must be the one it
 * has without notifications, and the failing sinks may add at most the delivery timeout.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NOTIFY_ENV, verifyWebhookSignature } from '../../../components/notifications/index.js';
import { startReceiver, type Receiver } from '../../../components/notifications/testing.js';
import type { ReleasePlan } from '../../../components/release/plan.js';
import { planDockerInfrastructure } from '../../../providers/docker/infrastructure-spec.js';
import { planOfDockerSpec } from '../../../providers/docker/release-plan.js';
import { planReleaseSpec } from '../../../providers/docker/release-spec.js';
import { dockerConfig } from '../../../providers/docker/testing.js';
import { RELEASE_PLAN_ENV } from '../../../providers/release-command-line.js';
import { REPO_ROOT, TEST_IMAGES, requireDocker } from '../../support/images.js';

const SECRET = `whsec-${randomBytes(16).toString('hex')}`;
const DELIVERY_TIMEOUT_MS = 1_500;

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
  ms: number;
  events: string;
}

describe('the release CLI with notifications (real process, real Docker, real receivers)', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'tk-notify-cli-'));
  const stack = `tknotify${randomBytes(3).toString('hex')}`;
  let plan: ReleasePlan;
  const receivers: Receiver[] = [];
  let runs = 0;

  before(async () => {
    await requireDocker();
    const config = dockerConfig(stack, { docker: { images: { postgres: TEST_IMAGES.postgres, caddy: TEST_IMAGES.caddy } } });
    const releaseId = '0.1.0-0123abcd-20261123T000001Z';
    plan = planOfDockerSpec(planReleaseSpec(config, { ref: `tk-${stack}/trapperkeeper:${releaseId}`, releaseId, version: '0.1.0', commit: '0123abcd' }, planDockerInfrastructure(config)));
  });
  after(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    rmSync(scratch, { recursive: true, force: true });
  });

  const deploy = (env: Record<string, string>): Promise<Run> => {
    const eventsFile = join(scratch, `events-${(runs += 1)}.jsonl`);
    const started = performance.now();
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['launcher/release-cli.mjs', 'deploy'],
        {
          cwd: REPO_ROOT,
          env: { PATH: process.env.PATH, HOME: process.env.HOME, ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}), [RELEASE_PLAN_ENV]: JSON.stringify(plan), TK_DEPLOY_EVENTS_FILE: eventsFile, ...env },
        },
        (error, stdout, stderr) => {
          let events = '';
          try {
            events = readFileSync(eventsFile, 'utf8');
          } catch {
            // No event was written.
          }
          resolve({ exitCode: error ? Number(error.code ?? 1) : 0, stdout, stderr, ms: performance.now() - started, events });
        },
      );
    });
  };
  /** What the CLI printed last: its error and fix. */
  const errorLine = (run: Run) => {
    const lines = run.stderr.trimEnd().split('\n');
    return lines.slice(lines.map((line) => line.startsWith('error:')).lastIndexOf(true)).join('\n');
  };

  it('notifies the start and the failure, and the release fails exactly as it does without notifications, at most the delivery timeout later', async () => {
    const seen: string[] = [];
    const hook = await startReceiver((request, _index, res) => {
      const check = verifyWebhookSignature(SECRET, request.headers, request.body);
      seen.push(check.valid ? 'valid' : check.reason);
      res.writeHead(check.valid ? 204 : 401).end();
    });
    const down = await startReceiver((_request, _index, res) => res.writeHead(500).end('down'), '/tk-topic');
    const hung = await startReceiver(() => undefined, '/services/T0/B0/hung');
    receivers.push(hook, down, hung);

    const without = await deploy({});
    const notify = JSON.stringify({
      attemptTimeoutMs: 500,
      deliveryTimeoutMs: DELIVERY_TIMEOUT_MS,
      webhook: { url: hook.url, secret: SECRET },
      ntfy: { url: down.url, events: ['release.started', 'release.failed'] },
      slack: { url: hung.url },
    });
    const withSinks = await deploy({ [NOTIFY_ENV]: notify });

    assert.equal(without.exitCode, 1, without.stderr);
    assert.match(errorLine(without), /^error: The Caddy container tk-tknotify\w+-caddy is missing/);
    assert.equal(withSinks.exitCode, without.exitCode);
    assert.equal(errorLine(withSinks), errorLine(without));
    assert.equal(withSinks.stdout, without.stdout);
    assert.ok(withSinks.ms - without.ms <= DELIVERY_TIMEOUT_MS + 1_500, `notifications added ${Math.round(withSinks.ms - without.ms)} ms (bound ${DELIVERY_TIMEOUT_MS} ms)`);

    const bodies = hook.requests.map((r) => JSON.parse(r.body) as { event: string; stack: string; release: string; deploymentId: string }).sort((a, b) => a.event.localeCompare(b.event));
    assert.deepEqual(bodies.map((b) => b.event), ['release.failed', 'release.started']);
    assert.deepEqual(seen, ['valid', 'valid']);
    assert.ok(bodies.every((b) => b.stack === stack && b.release === plan.image.releaseId && b.deploymentId === bodies[0]!.deploymentId));
    assert.ok(down.requests.length >= 4, 'the failing ntfy was retried for both events');
    assert.ok(hung.requests.length >= 2, 'the hanging Slack got both events');

    assert.match(withSinks.stderr, /! ntfy notification of release\.failed not delivered {2}reason=HTTP 500 \(down\) after \d+ attempts/);
    assert.match(withSinks.stderr, /! slack notification of release\.failed not delivered {2}reason=no answer within \d+ ms after \d+ attempts/);
    for (const text of [withSinks.stderr, withSinks.events]) {
      for (const secret of [SECRET, '/tk-topic', '/services/T0/B0/hung', String(new URL(hook.url).port)]) assert.ok(!text.includes(secret), `${secret} is not in the output`);
    }
  });

  it('refuses a malformed TK_NOTIFY before the release starts, naming the key and never echoing it', async () => {
    const run = await deploy({ [NOTIFY_ENV]: JSON.stringify({ slack: { url: `not-a-url-${SECRET}` } }) });
    assert.equal(run.exitCode, 1);
    assert.equal(errorLine(run), 'error: TK_NOTIFY is not valid: slack.url: must be an http:// or https:// URL\n  fix: run the release through `pulumi up`, which sets it from the stack config (notifications.*), or unset it');
    assert.ok(!run.stderr.includes(SECRET));
    assert.equal(run.events, '', 'nothing started');
  });
});
