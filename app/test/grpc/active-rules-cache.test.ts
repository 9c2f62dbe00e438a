import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from '../../src/db/connect.js';
import { activeRulesForTags, createRule, deleteRule, editRule, listRules, setRuleState } from '../../src/db/rules.js';
import { DEFAULT_TENANT_ID, type Database, type Queryable, type Row, type SqlValue } from '../../src/db/types.js';
import { ActiveRulesCache } from '../../src/grpc/active-rules-cache.js';
import { createTestDatabase, TEST_POOL, type TestDatabase } from '../support/databases.js';
import { equalsRule } from './fixtures.js';

const T = DEFAULT_TENANT_ID;

/** Counts the statements that read rules in full (every column) rather than their versions. */
class CountingQueryable implements Queryable {
  fullReads = 0;
  constructor(private readonly inner: Queryable) {}
  get dialect() {
    return this.inner.dialect;
  }
  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    if (sql.includes('or_groups') && sql.includes('FROM rules')) this.fullReads += 1;
    return this.inner.query<T>(sql, params);
  }
  execute(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.inner.execute(sql, params);
  }
}

describe('ActiveRulesCache on sqlite', () => {
  let database: TestDatabase;
  /** A second connection pool on the same file: changes made there stand for another process's. */
  let otherProcess: Database;
  before(async () => {
    database = await createTestDatabase('sqlite');
    otherProcess = await openDatabase(database.url, TEST_POOL);
  });
  after(async () => {
    await otherProcess?.close();
    await database?.drop();
  });

  test('unchanged rules are handed out as the same objects, read in full only once', async () => {
    await createRule(database.db, T, equalsRule('cached everywhere', 'x', 1));
    await createRule(database.db, T, equalsRule('cached scoped', 'x', 1, { scopeTags: [{ key: 'env', value: 'prod' }] }));
    const counting = new CountingQueryable(database.db);
    const cache = new ActiveRulesCache(counting);

    const first = await cache.rules(T);
    assert.deepEqual(first.map((rule) => rule.name).filter((name) => name.startsWith('cached')), ['cached everywhere', 'cached scoped']);
    assert.equal(await cache.rules(T), first, 'the same array, so the same compiled rules');
    const served = await cache.forTags(T, ['env=prod', 'region=eu']);
    assert.equal(await cache.forTags(T, ['region=eu', 'env=prod', 'env=prod']), served, 'tag order and repeats do not matter');
    assert.deepEqual(served, await activeRulesForTags(database.db, T, ['env=prod', 'region=eu']));
    assert.equal(counting.fullReads, 1);
  });

  test('a rule activated, edited, disabled or deleted by another process is seen by the next call', async () => {
    const cache = new ActiveRulesCache(database.db);
    const draft = await createRule(otherProcess, T, equalsRule('changing rule', 'y', 1, { state: 'RULE_STATE_DRAFT' }));
    let ruleId = draft.ruleId;
    const changes: [string, () => Promise<unknown>][] = [
      ['activated', () => setRuleState(otherProcess, T, ruleId, 'RULE_STATE_ACTIVE')],
      ['edited', async () => {
        ruleId = (await editRule(otherProcess, T, ruleId, equalsRule('changing rule', 'y', 2))).ruleId;
      }],
      ['disabled', () => setRuleState(otherProcess, T, ruleId, 'RULE_STATE_DISABLED')],
      ['activated again', () => setRuleState(otherProcess, T, ruleId, 'RULE_STATE_ACTIVE')],
      ['deleted', () => deleteRule(otherProcess, T, ruleId)],
    ];
    await cache.rules(T);
    await cache.forTags(T, []);
    for (const [change, apply] of changes) {
      await apply();
      assert.deepEqual(await cache.rules(T), await listRules(database.db, T, { states: ['RULE_STATE_ACTIVE'] }), `rules after the rule was ${change}`);
      assert.deepEqual(await cache.forTags(T, []), await activeRulesForTags(database.db, T, []), `sync after the rule was ${change}`);
    }
  });

  test('remembered tag sets stay within the byte bound, least recently used first, and are dropped when the rules change', async () => {
    const sizes: number[] = [];
    const cache = new ActiveRulesCache(database.db, { maxTagSetBytes: 16 * 1024, onTagSetsResize: (bytes) => sizes.push(bytes) });
    const kept = await cache.forTags(T, ['kept=yes']);
    for (let set = 0; set < 500; set++) {
      await cache.forTags(T, [`set=${set}`, 'x'.repeat(4096)]);
      assert.equal(await cache.forTags(T, ['kept=yes']), kept, 'a tag set in use stays remembered');
    }
    assert.ok(cache.tagSetBytes > 0 && cache.tagSetBytes <= 16 * 1024, `${cache.tagSetBytes} bytes`);
    assert.ok(Math.max(...sizes) <= 16 * 1024);
    assert.equal(sizes.at(-1), cache.tagSetBytes, 'the last size reported is the current one');

    await createRule(otherProcess, T, equalsRule('changes every served set', 'z', 1));
    const afterChange = await cache.forTags(T, ['kept=yes']);
    assert.notEqual(afterChange, kept);
    assert.deepEqual(afterChange, await activeRulesForTags(database.db, T, ['kept=yes']));
    assert.ok(cache.tagSetBytes < 1024, 'only the tag set served since the change is remembered');
  });
});
