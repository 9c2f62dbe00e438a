import { parseRuleInput, type NewRule } from '../src/rules/validate.js';

/**
 * The benchmark's rules: what an operator would watch on service telemetry (see
 * workload-payloads.ts for the events). 1-3 conditions each, over nested fields, with
 * wildcards, IN lists, a field reference, OR groups and one FAIL policy; several match a
 * few percent of events, some almost never.
 */
type Segment = { fieldName: string } | { arrayIndex: number } | { wildcard: Record<string, never> };

/** 'order.items.*.qty' -> field names, numeric indexes and wildcards. */
function path(dotted: string): { segments: Segment[] } {
  return {
    segments: dotted.split('.').map((part): Segment => {
      if (part === '*') return { wildcard: {} };
      if (/^\d+$/.test(part)) return { arrayIndex: Number(part) };
      return { fieldName: part };
    }),
  };
}

type ConditionInput = Record<string, unknown>;

const numeric = (field: string, op: string, value: number): ConditionInput => ({
  fieldPath: path(field), op: `OPERATOR_${op}`, value: { numericValue: value }, fieldType: 'FIELD_TYPE_NUMERIC',
});
const text = (field: string, op: string, value: string): ConditionInput => ({
  fieldPath: path(field), op: `OPERATOR_${op}`, value: { stringValue: value }, fieldType: 'FIELD_TYPE_TEXT',
});
const textIn = (field: string, values: string[]): ConditionInput => ({
  fieldPath: path(field), op: 'OPERATOR_IN', value: { stringArray: { values } }, fieldType: 'FIELD_TYPE_TEXT',
});
const boolean = (field: string, value: boolean): ConditionInput => ({
  fieldPath: path(field), op: 'OPERATOR_EQ', value: { booleanValue: value }, fieldType: 'FIELD_TYPE_BOOLEAN',
});
const isNull = (field: string): ConditionInput => ({ fieldPath: path(field), op: 'OPERATOR_IS_NULL', fieldType: 'FIELD_TYPE_ANY' });

function rule(name: string, action: string, ...groups: ConditionInput[][]): Record<string, unknown> {
  return {
    name,
    state: 'RULE_STATE_ACTIVE',
    action: `ACTION_${action}`,
    orGroups: groups.map((conditions) => ({
      conditions: conditions.map((condition) => ({
        onMissingField: 'ON_MISSING_FIELD_SKIP',
        onCoercionFail: 'ON_COERCION_FAIL_SKIP',
        ...condition,
      })),
    })),
  };
}

const TEMPLATES: Record<string, unknown>[] = [
  rule('server-errors', 'OBSERVE', [numeric('request.status', 'GTE', 500)]),
  rule('slow-checkout', 'OBSERVE', [text('service', 'EQ', 'checkout'), numeric('request.latency_ms', 'GT', 800)]),
  rule('large-order', 'OBSERVE', [numeric('order.total', 'GT', 900)]),
  rule('bulk-line-item', 'OBSERVE', [numeric('order.items.*.qty', 'GTE', 5)]),
  rule('beta-client', 'OBSERVE', [text('client.version', 'SUFFIX', '-beta'), text('env', 'EQ', 'prod')]),
  rule('enterprise-errors', 'OBSERVE', [textIn('user.tier', ['enterprise']), numeric('request.status', 'GTE', 400)]),
  rule('admin-path-from-free-tier', 'DROP', [text('request.path', 'PREFIX', '/admin'), text('user.tier', 'EQ', 'free')]),
  rule('order-without-coupon-over-500', 'OBSERVE', [isNull('order.coupon'), numeric('order.total', 'GT', 500)]),
  rule('latency-reported', 'FAIL', [{ ...numeric('request.latency_ms', 'LT', 0), onMissingField: 'ON_MISSING_FIELD_FAIL' }]),
  rule('unusual-currency', 'OBSERVE', [textIn('order.currency', ['JPY', 'BRL', 'INR'])]),
  rule('embargoed-country', 'DROP', [textIn('user.country', ['KP', 'IR', 'SY', 'CU'])]),
  rule('huge-get-response', 'OBSERVE', [text('request.method', 'EQ', 'GET'), numeric('request.bytes', 'GT', 1_500_000)]),
  rule('delete-by-free-tier', 'OBSERVE', [text('request.method', 'EQ', 'DELETE'), text('user.tier', 'EQ', 'free')]),
  rule('retry-storm', 'OBSERVE', [boolean('retry', true), numeric('request.status', 'EQ', 503)]),
  rule('new-account-big-order', 'OBSERVE', [
    numeric('user.age_days', 'LT', 2), numeric('order.total', 'GT', 200), text('env', 'EQ', 'prod'),
  ]),
  rule('test-sku-in-prod', 'DROP', [text('order.items.*.sku', 'CONTAINS', 'TEST'), text('env', 'EQ', 'prod')]),
  rule('payments-in-staging', 'OBSERVE', [text('env', 'EQ', 'staging'), text('service', 'EQ', 'payments')]),
  rule('debug-tagged', 'OBSERVE', [text('tags', 'CONTAINS', 'debug')]),
  rule('throttled-or-very-slow', 'OBSERVE', [numeric('request.status', 'EQ', 429)], [numeric('request.latency_ms', 'GT', 2000)]),
  rule('line-price-above-total', 'OBSERVE', [{
    fieldPath: path('order.items.0.price'), op: 'OPERATOR_GT', fieldType: 'FIELD_TYPE_NUMERIC', fieldRef: path('order.total'),
  }]),
];

/** The 20 rules of the ingestion benchmark, validated as the app validates rules. */
export function ingestionRules(): NewRule[] {
  return TEMPLATES.map((template) => parseRuleInput(template));
}

/** `count` distinct active rules for the SyncRules benchmark (the templates, renamed, repeated). */
export function syncRuleSet(count: number): NewRule[] {
  return Array.from({ length: count }, (_, index) => {
    const template = TEMPLATES[index % TEMPLATES.length] as Record<string, unknown>;
    return parseRuleInput({ ...template, name: `${String(template.name)}-${String(index).padStart(4, '0')}` });
  });
}
