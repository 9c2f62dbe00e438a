import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import { targetHealthOutcome } from './target-health.js';

const target = (id: string, state: string, reason?: string): TargetHealthDescription => ({
  Target: { Id: id, Port: 8080 },
  TargetHealth: { State: state as never, ...(reason ? { Reason: reason as never, Description: 'Health checks failed' } : {}) },
});

describe('the load balancer\'s view of the idle slot, one round', () => {
  const cases: Array<[string, TargetHealthDescription[], number, boolean, RegExp]> = [
    ['every desired target healthy', [target('10.0.1.5', 'healthy'), target('10.0.2.7', 'healthy')], 2, true, /2 of 2 targets healthy/],
    ['no target registered yet', [], 2, false, /no target registered yet \(2 expected\)/],
    ['fewer healthy targets than the slot wants', [target('10.0.1.5', 'healthy')], 2, false, /1 of 2 targets healthy/],
    ['a target still starting', [target('10.0.1.5', 'healthy'), target('10.0.2.7', 'initial', 'Elb.RegistrationInProgress')], 2, false, /10\.0\.2\.7:8080 initial \(Elb\.RegistrationInProgress/],
    ['an unhealthy target, with its reason', [target('10.0.1.5', 'unhealthy', 'Target.ResponseCodeMismatch'), target('10.0.2.7', 'healthy')], 2, false, /10\.0\.1\.5:8080 unhealthy \(Target\.ResponseCodeMismatch: Health checks failed\)/],
    ['a target draining (an older task of the slot)', [target('10.0.1.5', 'healthy'), target('10.0.2.7', 'healthy'), target('10.0.3.9', 'draining')], 2, false, /2 of 3 targets healthy/],
  ];
  for (const [title, descriptions, desired, ok, detail] of cases) {
    it(`${ok ? 'passes' : 'fails'}: ${title}`, () => {
      const outcome = targetHealthOutcome('tk-prod-green-web', descriptions, desired);
      assert.equal(outcome.ok, ok);
      assert.match(outcome.detail, detail);
    });
  }
});
