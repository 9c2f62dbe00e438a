// One OS process contending for the deploy lock (driven by deploy-lock.test.ts): prints
// `ready`, waits for `go` on stdin, tries once without waiting, prints the outcome as JSON and,
// when it won, holds the lock until `release` arrives.
import { createInterface } from 'node:readline';
import { lockHolderForThisProcess } from '../../../components/lock/index.js';
import { acquireDeployLock } from '../../../providers/docker/lock/index.js';
import { testEngine } from '../../support/images.js';

const [prefix, image, label] = process.argv.slice(2);
if (!prefix || !image || !label) throw new Error('usage: lock-contender.ts <prefix> <lock image> <label>');

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const nextLine = async (): Promise<string> => String((await lines.next()).value ?? '');

process.stdout.write('ready\n');
if ((await nextLine()) !== 'go') process.exit(2);
try {
  const lock = await acquireDeployLock(
    testEngine,
    { stack: 'lock-race', prefix },
    lockHolderForThisProcess({ releaseId: `release-${label}`, version: label }),
    { waitMs: 0, image },
  );
  process.stdout.write(`${JSON.stringify({ label, won: true })}\n`);
  await nextLine();
  await lock.release();
} catch (error) {
  process.stdout.write(`${JSON.stringify({ label, won: false, message: (error as Error).message })}\n`);
}
process.exit(0);
