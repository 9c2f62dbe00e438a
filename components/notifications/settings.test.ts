import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeployError } from '../errors.js';
import { DEFAULT_SINK_EVENTS, NOTIFY_ENV, notifySettingsFromEnv } from './settings.js';

function refusal(value: string): string {
  try {
    notifySettingsFromEnv({ [NOTIFY_ENV]: value });
  } catch (error) {
    assert.ok(error instanceof DeployError, String(error));
    return error.message;
  }
  assert.fail('accepted');
}

describe('TK_NOTIFY in the release process', () => {
  it('means no sink when unset or empty', () => {
    assert.equal(notifySettingsFromEnv({}), undefined);
    assert.equal(notifySettingsFromEnv({ [NOTIFY_ENV]: ' ' }), undefined);
  });

  it('fills the per-sink event defaults and the timeouts', () => {
    const settings = notifySettingsFromEnv({ [NOTIFY_ENV]: JSON.stringify({ slack: { url: 'https://hooks.slack.com/services/T/B/X' } }) });
    assert.deepEqual(settings, { attemptTimeoutMs: 5_000, deliveryTimeoutMs: 15_000, slack: { url: 'https://hooks.slack.com/services/T/B/X', events: [...DEFAULT_SINK_EVENTS.slack] } });
  });

  it('refuses a malformed value with the key that is wrong and the fix, never echoing it', () => {
    assert.equal(refusal('{"webhook":'), 'TK_NOTIFY is not valid JSON\n  fix: run the release through `pulumi up`, which sets it from the stack config (notifications.*), or unset it');
    const secret = 'hunter2-hunter2-hunter2';
    const message = refusal(JSON.stringify({ webhook: { url: `ftp://${secret}@x`, secret, events: ['release.done'] }, teams: {} }));
    assert.match(message, /^TK_NOTIFY is not valid: webhook\.url: must be an http:\/\/ or https:\/\/ URL; webhook\.events\.0: is not a known value; \(root\): unknown key teams\n {2}fix: /);
    assert.ok(!message.includes(secret));
  });
});
