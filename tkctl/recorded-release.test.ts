import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recordedStackOf } from './recorded-release.js';

const secret = (value: unknown) => ({ '4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270', plaintext: JSON.stringify(value) });

/** The shape of `pulumi stack export --show-secrets` of a Docker stack after a release (trimmed). */
const exported = {
  version: 3,
  deployment: {
    resources: [
      { urn: 'urn:pulumi:dev::trapperkeeper::pulumi:pulumi:Stack::trapperkeeper-dev', type: 'pulumi:pulumi:Stack', outputs: { liveVersion: 'r2', previousVersion: 'r1', releasePlan: { stack: 'dev' } } },
      {
        urn: 'urn:pulumi:dev::trapperkeeper::trapperkeeper:docker:Target$command:local:Command::tk-cleanup',
        type: 'command:local:Command',
        inputs: { delete: 'node launcher/release-cli.mjs destroy', environment: { TK_RELEASE_PLAN: '{}' } },
      },
      {
        urn: 'urn:pulumi:dev::trapperkeeper::trapperkeeper:docker:Target$command:local:Command::tk-release',
        type: 'command:local:Command',
        inputs: {
          create: 'node launcher/release-cli.mjs deploy',
          environment: { TK_RELEASE_PLAN: '{"stack":"dev"}', TK_DATABASE_URL: secret('postgres://tk:pw@db/tk'), TK_HMAC_SECRET: secret('k1:c2VjcmV0') },
          triggers: ['r2', secret('digest')],
        },
      },
    ],
  },
};

describe('the release command recorded in a stack\'s state', () => {
  it('is the release resource\'s command and environment, with the secrets revealed, beside the stack outputs', () => {
    const recorded = recordedStackOf(exported);
    assert.deepEqual(recorded.outputs, { liveVersion: 'r2', previousVersion: 'r1', releasePlan: { stack: 'dev' } });
    assert.deepEqual(recorded.release, {
      command: 'node launcher/release-cli.mjs deploy',
      environment: { TK_RELEASE_PLAN: '{"stack":"dev"}', TK_DATABASE_URL: 'postgres://tk:pw@db/tk', TK_HMAC_SECRET: 'k1:c2VjcmV0' },
    });
  });

  it('reads a whole environment stored as one secret', () => {
    const whole = structuredClone(exported);
    const release = whole.deployment.resources[2]!;
    (release.inputs as Record<string, unknown>).environment = secret({ TK_RELEASE_PLAN: '{}', TK_HMAC_SECRET: 'k' });
    assert.deepEqual(recordedStackOf(whole).release?.environment, { TK_RELEASE_PLAN: '{}', TK_HMAC_SECRET: 'k' });
  });

  it('has no release before the first one (or when the state holds no release command)', () => {
    assert.deepEqual(recordedStackOf({ version: 3, deployment: {} }), { outputs: {} });
    const noRelease = { deployment: { resources: exported.deployment.resources.slice(0, 2) } };
    assert.equal(recordedStackOf(noRelease).release, undefined);
    assert.equal(recordedStackOf(noRelease).outputs.previousVersion, 'r1');
  });
});
