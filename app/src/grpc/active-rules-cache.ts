import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { DEFAULT_SENSOR_API_SYNC_CACHE_MAX_BYTES } from '../config/defaults.js';
import {
  activeRuleVersions, isCurrent, loadActiveRuleSet, rulesForTags, type ActiveRuleSet, type ServedRules,
} from '../db/rules.js';
import type { Queryable } from '../db/types.js';
import type { Rule } from '../rules/model.js';

/**
 * What one remembered tag set is counted as holding: its key (a fixed-size digest, never the
 * tags), the ETag, the objects around them and the cache's own bookkeeping; plus a reference
 * per served rule, with the array's spare capacity (the rules belong to the rule set, shared by
 * all). Measured on V8 at about 400 bytes and 11 per rule; rounded up, so the bound holds.
 */
const BYTES_PER_TAG_SET = 640;
const BYTES_PER_SERVED_RULE = 12;

export interface ActiveRulesCacheOptions {
  /** Bound on the memory the remembered tag sets hold (see BYTES_PER_TAG_SET); least recently used go first. */
  maxTagSetBytes: number;
  /** Called whenever the tag sets' size changes, with the size in bytes and the number of sets. */
  onTagSetsResize?: (bytes: number, tagSets: number) => void;
}

interface RememberedTagSet {
  tenantId: string;
  served: ServedRules;
}

/**
 * The tenant's active rules, kept between calls. Each call still asks the database which rules
 * are active (ids and modification times only, see activeRuleVersions), so a rule activated,
 * edited or deleted anywhere (web UI, CLI, another server) is seen by the very next call; the
 * rules themselves are read and parsed again only when that answer changes.
 *
 * Handing out the same Rule objects until then is also what lets the evaluator reuse its
 * compiled rules (it caches them per `orGroups` array).
 *
 * What a sync serves is remembered per tag set, under a digest of the set, in a cache bounded
 * by bytes: whatever tag sets clients send, memory stays under `maxTagSetBytes`.
 */
export class ActiveRulesCache {
  private readonly tenants = new Map<string, ActiveRuleSet>();
  private readonly tagSets: LRUCache<string, RememberedTagSet>;

  constructor(
    private readonly db: Queryable,
    private readonly options: ActiveRulesCacheOptions = { maxTagSetBytes: DEFAULT_SENSOR_API_SYNC_CACHE_MAX_BYTES },
  ) {
    this.tagSets = new LRUCache<string, RememberedTagSet>({
      maxSize: options.maxTagSetBytes,
      sizeCalculation: (remembered) => BYTES_PER_TAG_SET + BYTES_PER_SERVED_RULE * remembered.served.rules.length,
      dispose: () => this.reportSize(),
    });
  }

  /** Every active rule of the tenant, by name. Callers must not modify them. */
  async rules(tenantId: string): Promise<readonly Rule[]> {
    return (await this.current(tenantId)).rules;
  }

  /** The active rules in scope for a sensor's tags, with their ETag (see rulesForTags). */
  async forTags(tenantId: string, tags: readonly string[]): Promise<ServedRules> {
    const set = await this.current(tenantId);
    const key = `${tenantId}/${tagSetDigest(tags)}`;
    const remembered = this.tagSets.get(key);
    if (remembered) return remembered.served;
    const served = rulesForTags(set, tags);
    // Unless a concurrent call has replaced the set meanwhile: what the old one served is stale.
    if (this.tenants.get(tenantId) === set) {
      this.tagSets.set(key, { tenantId, served });
      this.reportSize();
    }
    return served;
  }

  /** Bytes the remembered tag sets are counted as holding (never above maxTagSetBytes). */
  get tagSetBytes(): number {
    return this.tagSets.calculatedSize;
  }

  private async current(tenantId: string): Promise<ActiveRuleSet> {
    const versions = await activeRuleVersions(this.db, tenantId);
    const cached = this.tenants.get(tenantId);
    if (cached && isCurrent(cached, versions)) return cached;
    // Labelled with the versions of the rows it was built from, so a change racing this read
    // is caught by the next call's comparison.
    const fresh = await loadActiveRuleSet(this.db, tenantId);
    this.tenants.set(tenantId, fresh);
    this.forgetTagSets(tenantId);
    return fresh;
  }

  /** Drops what was served from the tenant's previous rules, which it would otherwise keep alive. */
  private forgetTagSets(tenantId: string): void {
    const stale = [...this.tagSets.entries()].filter(([, remembered]) => remembered.tenantId === tenantId).map(([key]) => key);
    for (const key of stale) this.tagSets.delete(key);
  }

  private reportSize(): void {
    this.options.onTagSetsResize?.(this.tagSets.calculatedSize, this.tagSets.size);
  }
}

/**
 * A digest of the distinct tags, in sorted order: scope matching depends only on which tags
 * are present. Each tag is prefixed with its length, so no two tag sets share an encoding.
 */
function tagSetDigest(tags: readonly string[]): string {
  const hash = createHash('sha256');
  for (const tag of [...new Set(tags)].sort()) {
    hash.update(`${Buffer.byteLength(tag)}:`);
    hash.update(tag);
  }
  return hash.digest('base64url');
}
