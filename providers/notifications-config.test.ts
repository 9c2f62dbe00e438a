import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { notifySettingsFromEnv, NOTIFY_ENV } from '../components/notifications/settings.js';
import { ConfigError, formatConfigProblem, parseStackConfig, type StackConfig, type StackConfigInput } from './config.js';
import { CANARY_ENV, pulumiConfig } from './docker/testing.js';
import { NOTIFICATIONS_CONFIG_EXAMPLES, notificationsSectionSchema } from './notifications-config.js';

const WEBHOOK_SECRET = 'whsec-3f9c2a7d0b1e4c5f8a6d2e9b7c4f1a0d';
const SLACK_URL = 'https://hooks.slack.com/services/T0CANARY/B0CANARY/canarycanary';

function input(notifications: unknown, overrides: Partial<StackConfigInput> = {}): StackConfigInput {
  return {
    stack: 'dev',
    config: pulumiConfig({ provider: 'docker', ...(notifications !== undefined ? { notifications } : {}) }),
    processEnv: CANARY_ENV,
    envFile: { path: '.env.dev', values: {} },
    secretConfigKeys: new Set(notifications !== undefined ? ['trapperkeeper:notifications'] : []),
    ...overrides,
  };
}

function problemsOf(parse: () => unknown): string[] {
  try {
    parse();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.problems.map(formatConfigProblem);
  }
  assert.fail('the config was accepted');
}

/** TK_NOTIFY as the release command receives it, read back the way the release process reads it. */
async function releaseSide(config: StackConfig) {
  const env = config.notifications.env;
  assert.ok(env, 'a sink is on');
  assert.equal(await pulumi.isSecret(env), true, 'TK_NOTIFY is a Pulumi secret');
  const text = await new Promise<string>((resolve) => env.apply(resolve));
  return notifySettingsFromEnv({ [NOTIFY_ENV]: text });
}

describe('stack config: notifications', () => {
  it('is off without a notifications section: nothing reaches the release command', () => {
    const config = parseStackConfig(input(undefined));
    assert.deepEqual(config.notifications, { sinks: [], env: undefined });
  });

  it('turns on each sink whose URL is set, with its secrets from the config, the environment or .env.<stack>, and hands the release one secret TK_NOTIFY', async () => {
    const config = parseStackConfig(
      input(
        {
          deliveryTimeoutMs: 8000,
          webhook: { url: 'https://ops.example.com/hooks/tk', secret: WEBHOOK_SECRET },
          ntfy: { url: 'https://ntfy.sh/tk-dev-3f9c2a', events: 'release.failed, rolled-back' },
          slack: { events: ['release.started', 'release.failed'] },
        },
        { processEnv: { ...CANARY_ENV, TK_NOTIFY_NTFY_TOKEN: 'tk_token' }, envFile: { path: '.env.dev', values: { TK_NOTIFY_SLACK_URL: SLACK_URL } } },
      ),
    );
    assert.deepEqual(config.notifications.sinks, ['webhook', 'ntfy', 'slack']);
    assert.deepEqual(await releaseSide(config), {
      attemptTimeoutMs: 5000,
      deliveryTimeoutMs: 8000,
      webhook: {
        url: 'https://ops.example.com/hooks/tk',
        secret: WEBHOOK_SECRET,
        events: ['release.started', 'snapshot.taken', 'migrated', 'promoted', 'release.succeeded', 'release.failed', 'rolled-back'],
      },
      ntfy: { url: 'https://ntfy.sh/tk-dev-3f9c2a', token: 'tk_token', events: ['release.failed', 'rolled-back'] },
      slack: { url: SLACK_URL, events: ['release.started', 'release.failed'] },
    });
    assert.ok(!JSON.stringify(config, (_key, value: unknown) => (pulumi.Output.isInstance(value) ? '<output>' : value)).includes(WEBHOOK_SECRET), 'the secret is in no plain field of the config');
  });

  it('turns Slack on from $TK_NOTIFY_SLACK_URL alone (a CI secret), with its default events', async () => {
    const config = parseStackConfig(input(undefined, { processEnv: { ...CANARY_ENV, TK_NOTIFY_SLACK_URL: SLACK_URL } }));
    assert.deepEqual(config.notifications.sinks, ['slack']);
    assert.deepEqual((await releaseSide(config))?.slack, { url: SLACK_URL, events: ['release.started', 'release.succeeded', 'release.failed', 'rolled-back'] });
  });

  const cases: { title: string; notifications: unknown; env?: Record<string, string>; problems: string[] }[] = [
    {
      title: 'a webhook URL that is not http(s)',
      notifications: { webhook: { url: 'ftp://ops.example.com/hooks', secret: WEBHOOK_SECRET } },
      problems: [
        "trapperkeeper:notifications.webhook.url: must be http:// or https:// (not ftp) (where the JSON is POSTed; the signature authenticates it); pulumi config set --path 'notifications.webhook.url' https://ops.example.com/hooks/trapperkeeper",
      ],
    },
    {
      title: 'a webhook URL with a password in it',
      notifications: { webhook: { url: 'https://tk:hunter2@ops.example.com/hooks', secret: WEBHOOK_SECRET } },
      problems: [
        "trapperkeeper:notifications.webhook.url: must carry no user or password (where the JSON is POSTed; the signature authenticates it); pulumi config set --path 'notifications.webhook.url' https://ops.example.com/hooks/trapperkeeper",
      ],
    },
    {
      title: 'a webhook without its secret',
      notifications: { webhook: { url: 'https://ops.example.com/hooks/tk' } },
      problems: [
        `trapperkeeper:notifications.webhook.secret: is not set (checked the stack config, $TK_NOTIFY_WEBHOOK_SECRET and .env.dev); pulumi config set --secret --path 'notifications.webhook.secret' "$(openssl rand -hex 32)"  # or TK_NOTIFY_WEBHOOK_SECRET=... in .env.dev`,
      ],
    },
    {
      title: 'a webhook secret too short to be an HMAC key',
      notifications: { webhook: { url: 'https://ops.example.com/hooks/tk' } },
      env: { TK_NOTIFY_WEBHOOK_SECRET: 'short-secret' },
      problems: [
        `trapperkeeper:notifications.webhook.secret: must be at least 32 characters (it is the HMAC key receivers verify with); pulumi config set --secret --path 'notifications.webhook.secret' "$(openssl rand -hex 32)"`,
      ],
    },
    {
      title: 'a webhook secret without its URL',
      notifications: { webhook: { secret: WEBHOOK_SECRET } },
      problems: ["trapperkeeper:notifications.webhook.url: is required; pulumi config set --path 'notifications.webhook.url' https://ops.example.com/hooks/trapperkeeper"],
    },
    {
      title: 'a Slack section without its URL',
      notifications: { slack: { events: 'release.failed' } },
      problems: [
        "trapperkeeper:notifications.slack.url: is not set (checked the stack config, $TK_NOTIFY_SLACK_URL and .env.dev); pulumi config set --secret --path 'notifications.slack.url' https://hooks.slack.com/services/T000/B000/XXXX  # or TK_NOTIFY_SLACK_URL=... in .env.dev",
      ],
    },
    {
      title: 'a Slack URL that is not a URL, without echoing it',
      notifications: undefined,
      env: { TK_NOTIFY_SLACK_URL: 'T0CANARY/B0CANARY/canarycanary' },
      problems: [
        "trapperkeeper:notifications.slack.url: is not a URL (a Slack-compatible incoming-webhook URL; set in the config, $TK_NOTIFY_SLACK_URL or .env.dev); pulumi config set --secret --path 'notifications.slack.url' https://hooks.slack.com/services/T000/B000/XXXX",
      ],
    },
    {
      title: 'an ntfy URL without a topic',
      notifications: { ntfy: { url: 'https://ntfy.sh/' } },
      problems: [
        "trapperkeeper:notifications.ntfy.url: must end in the topic, e.g. https://ntfy.sh/trapperkeeper-prod-3f9c2a (the topic URL); pulumi config set --path 'notifications.ntfy.url' https://ntfy.sh/trapperkeeper-prod-3f9c2a",
      ],
    },
    {
      title: 'an unknown event in a filter',
      notifications: { ntfy: { url: 'https://ntfy.sh/tk-dev', events: 'release.failed,release.done' } },
      problems: [
        "trapperkeeper:notifications.ntfy.events: names unknown event 'release.done' (known: release.started, lock.acquired, lock.waiting, lock.released, lock.broken, snapshot.taken, snapshot.failed, snapshot.pruned, snapshot.retention-held-back, snapshot.restored, migrated, slot.started, gate.passed, promoted, verified, drained, pruned, release.succeeded, release.failed, rolled-back, monitoring.failed); pulumi config set --path 'notifications.ntfy.events' release.succeeded,release.failed,rolled-back",
      ],
    },
    {
      title: 'a delivery timeout out of range',
      notifications: { deliveryTimeoutMs: 600000, attemptTimeoutMs: 'soon' },
      problems: [
        "trapperkeeper:notifications.attemptTimeoutMs: must be a whole number of milliseconds; pulumi config set --path 'notifications.attemptTimeoutMs' 5000",
        "trapperkeeper:notifications.deliveryTimeoutMs: must be at most 120000; pulumi config set --path 'notifications.deliveryTimeoutMs' 15000",
      ],
    },
    {
      title: 'a mistyped sink',
      notifications: { slak: { url: SLACK_URL } },
      problems: ["trapperkeeper:notifications.slak: is not a known key (did you mean 'slack'?); pulumi config rm --path 'notifications.slak'"],
    },
  ];
  for (const { title, notifications, env, problems } of cases) {
    it(`reports ${title}`, () => {
      const found = problemsOf(() => parseStackConfig(input(notifications, env ? { processEnv: { ...CANARY_ENV, ...env } } : {})));
      assert.deepEqual(found, problems);
      assert.ok(!found.join('\n').includes('canarycanary') && !found.join('\n').includes('hunter2'), 'no secret echoed');
    });
  }

  it('reports every notifications problem at once: a wrong key does not hide a missing secret beside it', () => {
    const found = problemsOf(() => parseStackConfig(input({ webhook: { url: 'hooks.example.com' }, slack: { events: 'release.done' } })));
    assert.deepEqual(
      found.map((problem) => problem.split(':').slice(0, 2).join(':')),
      ['trapperkeeper:notifications.webhook.url', 'trapperkeeper:notifications.slack.events', 'trapperkeeper:notifications.webhook.secret', 'trapperkeeper:notifications.slack.url'],
    );
  });

  it('refuses a webhook secret or Slack URL stored in plain text in the stack file', () => {
    const found = problemsOf(() =>
      parseStackConfig(input({ webhook: { url: 'https://ops.example.com/hooks/tk', secret: WEBHOOK_SECRET }, slack: { url: SLACK_URL } }, { secretConfigKeys: new Set() })),
    );
    assert.deepEqual(found, [
      `trapperkeeper:notifications.webhook.secret: is stored in plain text in Pulumi.dev.yaml; pulumi config set --secret --path 'notifications.webhook.secret' "$(openssl rand -hex 32)"  # a new value: the old one is in your history`,
      "trapperkeeper:notifications.slack.url: is stored in plain text in Pulumi.dev.yaml; pulumi config set --secret --path 'notifications.slack.url' https://hooks.slack.com/services/T000/B000/XXXX  # a new value: the old one is in your history",
    ]);
    assert.ok(!found.join('\n').includes(WEBHOOK_SECRET));
  });

  it('has an example for exactly the keys of its schema, so every problem comes with a runnable fix', () => {
    const leaves = (schema: unknown, path: string): string[] => {
      let inner = schema as { shape?: Record<string, unknown>; unwrap?: () => unknown; def?: { innerType?: unknown } };
      while (!inner.shape && (inner.unwrap || inner.def?.innerType)) inner = (inner.unwrap ? inner.unwrap() : inner.def!.innerType) as typeof inner;
      return inner.shape ? Object.entries(inner.shape).flatMap(([key, child]) => leaves(child, `${path}.${key}`)) : [path];
    };
    assert.deepEqual(leaves(notificationsSectionSchema, 'notifications').sort(), Object.keys(NOTIFICATIONS_CONFIG_EXAMPLES).sort());
  });
});
