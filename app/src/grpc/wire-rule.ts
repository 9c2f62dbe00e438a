import type { Rule } from '../rules/model.js';
import { isoToTimestamp } from './timestamp.js';

/** `trapperkeeper.sensor.v1.Rule` as @grpc/proto-loader encodes it. */
export type WireRule = Omit<Rule, 'description' | 'createdAt'> & {
  createdAt: { seconds: number; nanos: number };
};

/**
 * The wire form of a stored rule: no description (the wire has none), created_at as a
 * Timestamp, and sample_rate always set explicitly.
 */
export function toWireRule(rule: Rule): WireRule {
  return {
    ruleId: rule.ruleId,
    name: rule.name,
    state: rule.state,
    action: rule.action,
    orGroups: rule.orGroups,
    sampleRate: rule.sampleRate,
    scopeTags: rule.scopeTags,
    createdAt: isoToTimestamp(rule.createdAt),
  };
}
