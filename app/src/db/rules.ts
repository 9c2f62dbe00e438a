import { createHash } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { UserError } from '../errors.js';
import type { Rule, RuleState, ScopeTag } from '../rules/model.js';
import type { NewRule } from '../rules/validate.js';
import type { Database, Queryable } from './types.js';

/**
 * The rule repository. A rule's conditions and scope tags are stored as the proto3 JSON
 * mapping in text columns; an edit never changes a rule in place (sensors may have cached
 * it by id) but creates a new rule and soft-deletes the old one.
 */

interface RuleRow {
  id: string;
  tenant_id: string;
  name: string;
  description: string;
  state: string;
  action: string;
  sample_rate: number | string;
  scope_tags: string;
  or_groups: string;
  created_at: string;
  modified_at: string;
  [column: string]: unknown;
}

const RULE_COLUMNS =
  'id, tenant_id, name, description, state, action, sample_rate, scope_tags, or_groups, created_at, modified_at';

export class RuleNotFoundError extends UserError {
  constructor(ruleId: string) {
    super(`Rule ${ruleId} does not exist (or was deleted)`, 'reload the rule list and pick an existing rule');
    this.name = 'RuleNotFoundError';
  }
}

export class RuleNameTakenError extends UserError {
  constructor(name: string) {
    super(`A rule named "${name}" already exists`, 'choose another name, or edit the existing rule');
    this.name = 'RuleNameTakenError';
  }
}

function toRule(row: RuleRow): Rule {
  return {
    ruleId: row.id,
    name: row.name,
    description: row.description,
    state: row.state as Rule['state'],
    action: row.action as Rule['action'],
    orGroups: JSON.parse(row.or_groups) as Rule['orGroups'],
    sampleRate: Number(row.sample_rate),
    scopeTags: JSON.parse(row.scope_tags) as ScopeTag[],
    createdAt: row.created_at,
  };
}

export async function listRules(
  db: Queryable,
  tenantId: string,
  options: { states?: RuleState[] } = {},
): Promise<Rule[]> {
  const rows = await selectRuleRows(db, tenantId, options.states);
  return rows.map(toRule);
}

async function selectRuleRows(db: Queryable, tenantId: string, states?: readonly RuleState[]): Promise<RuleRow[]> {
  if (states && states.length === 0) return [];
  const stateFilter = states ? ` AND state IN (${states.map(() => '?').join(', ')})` : '';
  return db.query<RuleRow>(
    `SELECT ${RULE_COLUMNS} FROM rules
     WHERE tenant_id = ? AND deleted_at IS NULL${stateFilter}
     ORDER BY name, id`,
    [tenantId, ...(states ?? [])],
  );
}

export async function getRule(db: Queryable, tenantId: string, ruleId: string): Promise<Rule | undefined> {
  const rows = await db.query<RuleRow>(
    `SELECT ${RULE_COLUMNS} FROM rules WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL`,
    [tenantId, ruleId],
  );
  return rows[0] ? toRule(rows[0]) : undefined;
}

export async function getRuleByName(db: Queryable, tenantId: string, name: string): Promise<Rule | undefined> {
  const rows = await db.query<RuleRow>(
    `SELECT ${RULE_COLUMNS} FROM rules WHERE tenant_id = ? AND name = ? AND deleted_at IS NULL ORDER BY id`,
    [tenantId, name],
  );
  return rows[0] ? toRule(rows[0]) : undefined;
}

/** Names are unique among a tenant's live rules (rules-as-code files refer to rules by name). */
async function assertNameFree(db: Queryable, tenantId: string, name: string, exceptRuleId?: string): Promise<void> {
  const existing = await getRuleByName(db, tenantId, name);
  if (existing && existing.ruleId !== exceptRuleId) throw new RuleNameTakenError(name);
}

async function insertRule(db: Queryable, tenantId: string, rule: NewRule, now: Date): Promise<Rule> {
  const id = uuidv7();
  await db.execute(
    `INSERT INTO rules (${RULE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      id,
      tenantId,
      rule.name,
      rule.description,
      rule.state,
      rule.action,
      rule.sampleRate,
      JSON.stringify(rule.scopeTags),
      JSON.stringify(rule.orGroups),
      now,
      now,
    ],
  );
  const created = await getRule(db, tenantId, id);
  if (!created) throw new Error(`rule ${id} vanished right after it was inserted`);
  return created;
}

/** Stores a validated rule (see parseRuleInput) under a new id. */
export async function createRule(db: Database, tenantId: string, rule: NewRule): Promise<Rule> {
  return db.transaction(async (tx) => {
    await assertNameFree(tx, tenantId, rule.name);
    return insertRule(tx, tenantId, rule, new Date());
  });
}

/** Replaces a rule: the new version gets a new id, the old one is soft-deleted, atomically. */
export async function editRule(db: Database, tenantId: string, ruleId: string, rule: NewRule): Promise<Rule> {
  return db.transaction(async (tx) => {
    const now = new Date();
    const deleted = await tx.execute(
      'UPDATE rules SET deleted_at = ?, modified_at = ? WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL',
      [now, now, tenantId, ruleId],
    );
    if (deleted === 0) throw new RuleNotFoundError(ruleId);
    await assertNameFree(tx, tenantId, rule.name);
    return insertRule(tx, tenantId, rule, now);
  });
}

/** Activates, disables or drafts a rule in place (its id stays). */
export async function setRuleState(db: Queryable, tenantId: string, ruleId: string, state: RuleState): Promise<Rule> {
  if (state === 'RULE_STATE_UNSPECIFIED') {
    throw new UserError(`Rule ${ruleId} cannot be put in state ${state}`, 'use RULE_STATE_DRAFT, RULE_STATE_ACTIVE or RULE_STATE_DISABLED');
  }
  await db.execute(
    'UPDATE rules SET state = ?, modified_at = ? WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL',
    [state, new Date(), tenantId, ruleId],
  );
  const rule = await getRule(db, tenantId, ruleId);
  if (!rule) throw new RuleNotFoundError(ruleId);
  return rule;
}

/** Soft-deletes a rule: it disappears from every listing and from sensors' next sync. */
export async function deleteRule(db: Queryable, tenantId: string, ruleId: string): Promise<void> {
  const now = new Date();
  const deleted = await db.execute(
    'UPDATE rules SET deleted_at = ?, modified_at = ? WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL',
    [now, now, tenantId, ruleId],
  );
  if (deleted === 0) throw new RuleNotFoundError(ruleId);
}

/** A sensor's tags, split for scope matching: `key=value` pairs and bare values. */
interface RequestTags {
  pairs: Set<string>;
  bareValues: Set<string>;
}

function parseRequestTags(tags: readonly string[]): RequestTags {
  const pairs = new Set<string>();
  const bareValues = new Set<string>();
  for (const tag of tags) {
    if (tag.includes('=')) pairs.add(tag);
    else bareValues.add(tag);
  }
  return { pairs, bareValues };
}

function inScope(scopeTags: readonly ScopeTag[], tags: RequestTags): boolean {
  return scopeTags.every((scope) => tags.pairs.has(`${scope.key}=${scope.value}`) || tags.bareValues.has(scope.value));
}

/**
 * Whether a sensor with these tags receives a rule with these scope tags. Request tags are
 * `key=value`, or a bare `value` that matches a scope tag with that value under any key.
 * A rule without scope tags is for everyone; otherwise each scope tag must be matched.
 */
export function scopeMatches(scopeTags: readonly ScopeTag[], requestTags: readonly string[]): boolean {
  return scopeTags.length === 0 || inScope(scopeTags, parseRequestTags(requestTags));
}

/** An active rule's id and modification time (see activeRuleVersions). */
export interface RuleVersion {
  id: string;
  modifiedAt: string;
}

/**
 * The tenant's active, live rules, parsed once, with what a sync needs to serve them.
 * `versions` says which state of the database it reflects (see activeRuleVersions).
 */
export interface ActiveRuleSet {
  /** Modification time by rule id. */
  versions: ReadonlyMap<string, string>;
  /** Ordered by name, as listRules orders them. */
  rules: readonly Rule[];
  /** What each rule contributes to an ETag, by rule id. */
  etagLines: ReadonlyMap<string, string>;
}

export interface ServedRules {
  rules: readonly Rule[];
  etag: string;
}

/**
 * Which rules are active, and when each was last modified: a cheap query (no rule content)
 * that changes whenever the active set does. A rule's content never changes under its id (an
 * edit creates a new rule), and activating, disabling or deleting one adds or removes its id;
 * so equal versions mean equal rules, whatever the clocks of the processes writing them.
 */
export async function activeRuleVersions(db: Queryable, tenantId: string): Promise<RuleVersion[]> {
  const rows = await db.query<{ id: string; modified_at: string }>(
    'SELECT id, modified_at FROM rules WHERE tenant_id = ? AND deleted_at IS NULL AND state = ?',
    [tenantId, 'RULE_STATE_ACTIVE'],
  );
  return rows.map((row) => ({ id: row.id, modifiedAt: row.modified_at }));
}

/** Whether the set still holds exactly the rules these versions (just read) describe. */
export function isCurrent(set: ActiveRuleSet, versions: readonly RuleVersion[]): boolean {
  return versions.length === set.versions.size && versions.every((version) => set.versions.get(version.id) === version.modifiedAt);
}

/**
 * One rule's part of an ETag: its id, modification time and served content, from the stored
 * columns (rules are never parsed for it).
 */
function etagLine(row: RuleRow): string {
  return JSON.stringify([
    row.id,
    row.modified_at,
    row.name,
    row.state,
    row.action,
    Number(row.sample_rate),
    row.scope_tags,
    row.or_groups,
    row.created_at,
  ]);
}

export async function loadActiveRuleSet(db: Queryable, tenantId: string): Promise<ActiveRuleSet> {
  const rows = await selectRuleRows(db, tenantId, ['RULE_STATE_ACTIVE']);
  return {
    versions: new Map(rows.map((row) => [row.id, row.modified_at])),
    rules: rows.map(toRule),
    etagLines: new Map(rows.map((row) => [row.id, etagLine(row)])),
  };
}

/**
 * The rules of the set in scope for a sensor's tags, and their ETag: a digest of each served
 * rule's id, modification time and content, in id order. Any change to a served rule, or to
 * which rules are served, changes it.
 */
export function rulesForTags(set: ActiveRuleSet, tags: readonly string[]): ServedRules {
  const requestTags = parseRequestTags(tags);
  const rules = set.rules.filter((rule) => rule.scopeTags.length === 0 || inScope(rule.scopeTags, requestTags));
  const hash = createHash('sha256');
  for (const id of rules.map((rule) => rule.ruleId).sort()) {
    hash.update(set.etagLines.get(id) ?? '');
    hash.update('\n');
  }
  return { rules, etag: hash.digest('hex') };
}

/** The active, live rules in scope for a sensor's tags, and the ETag of that set. */
export async function activeRulesForTags(db: Queryable, tenantId: string, tags: string[]): Promise<ServedRules> {
  return rulesForTags(await loadActiveRuleSet(db, tenantId), tags);
}
