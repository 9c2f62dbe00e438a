import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SLOT_LABELS } from './slots/names.js';
import { dockerSpecOf, parseDockerReleasePlan, planOfDockerSpec } from './release-plan.js';
import { parseSlotRecord } from './slot-record.js';

/** What a slot container's label held before plans were versioned (toolkit of November 2026). */
const LEGACY_LABEL = readFileSync(new URL('./fixtures/slot-label-release-spec-2026-11.json', import.meta.url), 'utf8');

function inspectJson(labels: Record<string, string>, running = false): string {
  return JSON.stringify([{ Name: '/tk-prod-blue-web-ui', Created: '2026-11-23T10:15:00Z', State: { Running: running }, Config: { Labels: labels } }]);
}

describe('Docker release plans, and the release specs older slots carry', () => {
  it('a slot labelled by an older toolkit is read as a current plan: a rollback to it still works', () => {
    const record = parseSlotRecord('blue', inspectJson({ [SLOT_LABELS.legacySpec]: LEGACY_LABEL }));
    assert.ok(record);
    assert.equal(record.plan.schemaVersion, 1);
    assert.equal(record.plan.image.releaseId, '0.3.0-3f2a9c1d-20261123T101500Z-b1a2b3c4d+cfg.a6317a92');
    assert.deepEqual(record.plan.target, {
      kind: 'docker',
      prefix: 'tk-prod',
      network: 'tk-prod-net',
      databaseContainer: 'tk-prod-postgres',
      snapshotsDir: '/snapshots',
      proxyContainer: 'tk-prod-caddy',
    });
    assert.equal(record.running, false);
    assert.equal(record.startedAt.toISOString(), '2026-11-23T10:15:00.000Z');
    // Started again, the release runs exactly the spec it ran with (plus the standby default, which
    // only says what becomes of it after a later switch).
    assert.deepEqual(dockerSpecOf(record.plan), { ...JSON.parse(LEGACY_LABEL), standby: 'running' });
  });

  it('a current slot carries its plan; plan and Docker spec convert both ways without loss', () => {
    const spec = { ...JSON.parse(LEGACY_LABEL), standby: 'stopped' };
    const plan = planOfDockerSpec(spec);
    assert.deepEqual(dockerSpecOf(plan), spec);
    const { standby: _standby, ...writtenBeforeStandby } = plan;
    assert.equal(parseDockerReleasePlan(JSON.stringify(writtenBeforeStandby), 'a slot label', 'pulumi up').standby, 'running', 'a v1 plan from before release.standby reads as running');
    const record = parseSlotRecord('green', inspectJson({ [SLOT_LABELS.plan]: JSON.stringify(plan), [SLOT_LABELS.legacySpec]: '{"ignored": true}' }, true));
    assert.deepEqual(record?.plan, plan);
    assert.equal(record?.running, true);
  });

  it('carries the TLS of a stack with a domain in the Docker section, both ways; plans without it stay plain', () => {
    const tls = { domain: 'tk.example.com', grpcDomain: 'grpc.tk.example.com', issuer: 'acme', acmeEmail: 'ops@example.com', httpsPort: 443 } as const;
    const spec = { ...JSON.parse(LEGACY_LABEL), standby: 'running' };
    const secure = { ...spec, proxy: { ...spec.proxy, publicHttpUrl: 'https://tk.example.com', tls } };
    const plan = parseDockerReleasePlan(JSON.stringify(planOfDockerSpec(secure)), 'TK_RELEASE_PLAN', 'pulumi up');
    assert.deepEqual(plan.target.proxyTls, tls);
    assert.deepEqual(dockerSpecOf(plan), secure);
    assert.equal(dockerSpecOf(planOfDockerSpec(spec)).proxy.tls, undefined);
    assert.throws(
      () => parseDockerReleasePlan({ ...plan, target: { ...plan.target, proxyTls: { ...tls, issuer: 'self-signed' } } }, 'TK_RELEASE_PLAN', 'pulumi up'),
      /docker part of the release plan[\s\S]*proxyTls\.issuer/,
    );
  });

  it('a broken label is refused with the container to remove, and an empty slot reads as empty', () => {
    assert.throws(
      () => parseSlotRecord('blue', inspectJson({ [SLOT_LABELS.plan]: JSON.stringify({ ...planOfDockerSpec(JSON.parse(LEGACY_LABEL)), keepReleases: -1 }) })),
      /labels of container tk-prod-blue-web-ui is not valid:[\s\S]*keepReleases[\s\S]*docker rm -f tk-prod-blue-web-ui/,
    );
    assert.equal(parseSlotRecord('blue', inspectJson({ 'tk.stack': 'prod' })), undefined);
  });

  it('a plan for another target, or a Docker section missing a field, is refused by name', () => {
    const plan = planOfDockerSpec(JSON.parse(LEGACY_LABEL));
    assert.throws(() => parseDockerReleasePlan({ ...plan, target: { kind: 'aws' } }, 'TK_RELEASE_PLAN', 'pulumi up'), /for the aws target, not docker/);
    const { proxyContainer: _proxy, ...target } = plan.target as Record<string, unknown>;
    assert.throws(() => parseDockerReleasePlan({ ...plan, target }, 'TK_RELEASE_PLAN', 'pulumi up'), /docker part of the release plan[\s\S]*proxyContainer/);
  });
});
