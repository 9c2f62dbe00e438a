/**
 * The event writer thread: an EventWriter with its own connection to the SQLite file,
 * storing the batches the main thread sends it. Started by event-store.ts.
 */
import { workerData } from 'node:worker_threads';
import { serveCalls } from '../threads/serve-calls.js';
import type { WriterRequest, WriterResult, WriterSettings } from './event-store.js';
import { EventWriter } from './event-writer.js';
import { SqliteDatabase } from './sqlite.js';

const settings = workerData as WriterSettings;
const db = await SqliteDatabase.open(settings.file, { redactedUrl: settings.redactedUrl });
let transactionsStarted: number[] = [];
const writer = new EventWriter(db, { onTransaction: (batches) => transactionsStarted.push(batches) });

serveCalls<WriterRequest, WriterResult>('db/event-writer-thread', async (request) => {
  if (request.kind === 'close') {
    await db.close();
    return { stored: 0, transactions: [] };
  }
  const { stored } = await writer.write(request.tenantId, request.batch);
  const transactions = transactionsStarted;
  transactionsStarted = [];
  return { stored, transactions };
});
