/**
 * Child-process side of hostile-clients.ts: one client with a valid key abusing it, in an OS
 * process of its own, for `durationMs`: ReportEvents batches of millions of empty events just
 * under the message limit, and SyncRules "tag bombs" (thousands of long, distinct tags of
 * control characters) side by side, each loop starting a call at most every `pauseMs`. The
 * requests are written as raw protobuf bytes. Replies with the calls made by status, then
 * exits; also exits as soon as the benchmark process goes away.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs/minimal.js';
import { API_KEY_METADATA } from '../src/grpc/auth.js';
import { SENSOR_API_SERVICE } from '../src/grpc/proto.js';

export interface HostileSpec {
  port: number;
  apiKey: string;
  durationMs: number;
  pauseMs: number;
  /** Size of each oversized ReportEvents request; each empty event takes 2 bytes. */
  oversizedBytes: number;
  tagsPerBomb: number;
  tagBytes: number;
}

export interface AttackCounts {
  calls: number;
  /** Calls by the status they ended with (OK, INVALID_ARGUMENT, RESOURCE_EXHAUSTED, ...). */
  byStatus: Record<string, number>;
  requestBytes: number;
}

export interface HostileReport {
  oversizedBatches: AttackCounts & { eventsPerBatch: number };
  tagBombs: AttackCounts & { tagsPerCall: number; tagBytes: number };
}

export type HostileReply = { ok: true; report: HostileReport } | { ok: false; error: string };

const CALL_DEADLINE_MS = 30_000;
const asIs = (bytes: Buffer): Buffer => bytes;

function rawClient(port: number): grpc.Client {
  const method = (name: string) => ({
    path: `/${SENSOR_API_SERVICE}/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: asIs,
    requestDeserialize: asIs,
    responseSerialize: asIs,
    responseDeserialize: asIs,
  });
  const Raw = grpc.makeGenericClientConstructor({ ReportEvents: method('ReportEvents'), SyncRules: method('SyncRules') }, 'HostileSensorAPI');
  return new Raw(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': -1,
    'grpc.max_receive_message_length': -1,
  });
}

function call(client: grpc.Client, name: string, request: Buffer, apiKey: string): Promise<string> {
  const metadata = new grpc.Metadata();
  metadata.set(API_KEY_METADATA, apiKey);
  return new Promise((resolve) => {
    (client as unknown as Record<string, (...args: unknown[]) => void>)[name]!(
      request,
      metadata,
      { deadline: Date.now() + CALL_DEADLINE_MS },
      (error: grpc.ServiceError | null) => resolve(grpc.status[error ? error.code : grpc.status.OK] ?? 'UNKNOWN'),
    );
  });
}

/** ReportEventsRequest { events: [{}, {}, ...] }: field 1, length 0, as many as fit. */
function oversizedBatch(bytes: number): { request: Buffer; events: number } {
  const events = Math.floor(bytes / 2);
  const request = Buffer.alloc(events * 2);
  for (let offset = 0; offset < request.length; offset += 2) request[offset] = 0x0a;
  return { request, events };
}

/** SyncRulesRequest { tags: [...] } whose tags no earlier call sent: the call number leads each. */
function tagBomb(callNumber: number, tags: number, tagBytes: number): Buffer {
  const writer = protobuf.Writer.create();
  const filler = '\u0001'.repeat(tagBytes);
  for (let tag = 0; tag < tags; tag++) writer.uint32(10).string(`${callNumber}.${tag}.${filler}`.slice(0, tagBytes));
  return Buffer.from(writer.finish());
}

async function paced(durationMs: number, pauseMs: number, attack: (callNumber: number) => Promise<void>): Promise<void> {
  const end = performance.now() + durationMs;
  for (let callNumber = 0; performance.now() < end; callNumber++) {
    const begun = performance.now();
    await attack(callNumber);
    const rest = pauseMs - (performance.now() - begun);
    if (rest > 0) await sleep(Math.min(rest, Math.max(0, end - performance.now())));
  }
}

async function attack(spec: HostileSpec): Promise<HostileReport> {
  const client = rawClient(spec.port);
  try {
    const batch = oversizedBatch(spec.oversizedBytes);
    const report: HostileReport = {
      oversizedBatches: { calls: 0, byStatus: {}, requestBytes: batch.request.length, eventsPerBatch: batch.events },
      tagBombs: { calls: 0, byStatus: {}, requestBytes: 0, tagsPerCall: spec.tagsPerBomb, tagBytes: spec.tagBytes },
    };
    const count = (counts: AttackCounts, status: string) => {
      counts.calls += 1;
      counts.byStatus[status] = (counts.byStatus[status] ?? 0) + 1;
    };
    await Promise.all([
      paced(spec.durationMs, spec.pauseMs, async () => {
        count(report.oversizedBatches, await call(client, 'ReportEvents', batch.request, spec.apiKey));
      }),
      paced(spec.durationMs, spec.pauseMs, async (callNumber) => {
        const request = tagBomb(callNumber, spec.tagsPerBomb, spec.tagBytes);
        report.tagBombs.requestBytes = request.length;
        count(report.tagBombs, await call(client, 'SyncRules', request, spec.apiKey));
      }),
    ]);
    return report;
  } finally {
    client.close();
  }
}

if (!process.send) throw new Error('hostile-child.ts runs only as a child process with an IPC channel');
process.once('disconnect', () => process.exit(0));
process.once('message', (spec: HostileSpec) => {
  const reply = (message: HostileReply) => process.send?.(message, undefined, undefined, () => process.disconnect());
  attack(spec).then(
    (report) => reply({ ok: true, report }),
    (error: unknown) => reply({ ok: false, error: String((error as Error).stack ?? error) }),
  );
});
