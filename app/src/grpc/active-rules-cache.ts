import {
  activeRuleVersions, isCurrent, loadActiveRuleSet, rulesForTags, type ActiveRuleSet, type ServedRules,
} from '../db/rules.js';
import type { Queryable } from '../db/types.js';
import type { Rule } from '../rules/model.js';

/** Tag sets remembered per rule set: sensors share a handful; this only bounds the memory. */
const MAX_TAG_SETS = 1000;

interface TenantRules {
  set: ActiveRuleSet;
  servedByTags: Map<string, ServedRules>;
}

/**
 * The tenant's active rules, kept between calls. Each call still asks the database which rules
 * are active (ids and modification times only, see activeRuleVersions), so a rule activated,
 * edited or deleted anywhere (web UI, CLI, another server) is seen by the very next call; the
 * rules themselves are read and parsed again only when that answer changes.
 *
 * Handing out the same Rule objects until then is also what lets the evaluator reuse its
 * compiled rules (it caches them per `orGroups` array).
 */
export class ActiveRulesCache {
  private readonly tenants = new Map<string, TenantRules>();

  constructor(private readonly db: Queryable) {}

  /** Every active rule of the tenant, by name. Callers must not modify them. */
  async rules(tenantId: string): Promise<readonly Rule[]> {
    return (await this.current(tenantId)).set.rules;
  }

  /** The active rules in scope for a sensor's tags, with their ETag (see rulesForTags). */
  async forTags(tenantId: string, tags: readonly string[]): Promise<ServedRules> {
    const tenant = await this.current(tenantId);
    // Scope matching depends only on which tags are present.
    const key = JSON.stringify([...new Set(tags)].sort());
    let served = tenant.servedByTags.get(key);
    if (!served) {
      if (tenant.servedByTags.size >= MAX_TAG_SETS) tenant.servedByTags.clear();
      served = rulesForTags(tenant.set, tags);
      tenant.servedByTags.set(key, served);
    }
    return served;
  }

  private async current(tenantId: string): Promise<TenantRules> {
    const versions = await activeRuleVersions(this.db, tenantId);
    const cached = this.tenants.get(tenantId);
    if (cached && isCurrent(cached.set, versions)) return cached;
    // Labelled with the versions of the rows it was built from, so a change racing this read
    // is caught by the next call's comparison.
    const fresh: TenantRules = { set: await loadActiveRuleSet(this.db, tenantId), servedByTags: new Map() };
    this.tenants.set(tenantId, fresh);
    return fresh;
  }
}
