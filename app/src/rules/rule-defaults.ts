/**
 * The values a rule gets when its input leaves a field out, and the limits it must keep.
 * The validator fills these in, the rules-file writer leaves them out, and the web UI and
 * docs can quote them: one source for all three.
 */
export const RULE_DEFAULTS = {
  description: '',
  /** A new rule is a draft until someone activates it. */
  state: 'RULE_STATE_DRAFT',
  /** Least intrusive: record the match, change nothing. */
  action: 'ACTION_OBSERVE',
  /** proto3 would read an absent double as 0.0, "never evaluate"; we mean "always". */
  sampleRate: 1,
  fieldType: 'FIELD_TYPE_ANY',
  onMissingField: 'ON_MISSING_FIELD_SKIP',
  onCoercionFail: 'ON_COERCION_FAIL_SKIP',
} as const;

export const RULE_LIMITS = {
  nameMaxChars: 128,
  descriptionMaxChars: 1024,
  pathMaxSegments: 16,
  pathMaxWildcards: 2,
  inMaxValues: 64,
} as const;
