import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createEmptyTestDatabase, DIALECTS, type TestDatabase } from '../support/databases.js';
import { lastJsonLine, startFixture } from './children.js';

const ROUNDS = 150;

describe('sqlite shared by several processes', { skip: !DIALECTS.includes('sqlite') }, () => {
  let shared: TestDatabase;
  before(async () => {
    shared = await createEmptyTestDatabase('sqlite');
    await shared.db.execute('CREATE TABLE writes (writer TEXT NOT NULL, n INTEGER NOT NULL)');
  });
  after(async () => {
    await shared?.drop();
  });

  test('two processes writing the same file at once both finish without SQLITE_BUSY', async () => {
    const writers = ['a', 'b'].map((name) => startFixture('sqlite-writer-child', [shared.url, name, String(ROUNDS)]));
    await Promise.all(writers.map((writer) => writer.ready));
    for (const writer of writers) writer.send('go');
    // The test process reads while they write: WAL readers never wait for the writer.
    const seenWhileWriting = await shared.db.query<{ n: number }>('SELECT COUNT(*) AS n FROM writes');
    assert.ok((seenWhileWriting[0]?.n ?? -1) >= 0);
    const exits = await Promise.all(writers.map((writer) => writer.exited));
    for (const exit of exits) {
      assert.equal(exit.code, 0, `a writer failed:\n${exit.stdout}\n${exit.stderr}`);
      assert.deepEqual(lastJsonLine(exit.stdout), { written: ROUNDS * 3 });
    }
    const counts = await shared.db.query<{ writer: string; n: number; distinct_n: number }>(
      'SELECT writer, COUNT(*) AS n, COUNT(DISTINCT n) AS distinct_n FROM writes GROUP BY writer ORDER BY writer',
    );
    assert.deepEqual(counts, [
      { writer: 'a', n: ROUNDS * 3, distinct_n: ROUNDS * 3 },
      { writer: 'b', n: ROUNDS * 3, distinct_n: ROUNDS * 3 },
    ]);
  });
});
