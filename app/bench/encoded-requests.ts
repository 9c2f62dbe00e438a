import { batchCycle, benchEventId, EVENT_ID_SEQUENCE_DIGITS, wireBatch, type EventPool } from './event-batches.js';
import type { ReportEventsCodec } from './report-events-codec.js';

/**
 * ReportEvents requests encoded with the proto types before any load starts, so that in the
 * timed run a sensor spends next to no CPU on a batch: the benchmark measures the server, not
 * its own protobuf encoding (4-7 ms a batch with proto-loader, on the same cores).
 *
 * Batches repeat the pool's payloads every `batchCycle` batches (see event-batches.ts) and
 * differ otherwise only in their event ids and sensor id, so one encoded request per batch of
 * the cycle (and label) is kept, holding only the events. A request is that template copied,
 * with the batch's sequence number written over the fixed-width digits of each event id, and
 * the sensor's own sensor_id and client_timestamp fields appended (in protobuf, concatenated
 * messages merge). Every event keeps the client_timestamp taken when the requests were built.
 */
export interface EncodedRequests {
  /** The encoded request of batch `sequence` of `label`, sent by sensor `worker`; a fresh Buffer. */
  request(label: string, sequence: number, worker: number): Buffer;
}

interface Template {
  events: Buffer;
  /** Where each event id's sequence digits start in `events`. */
  sequenceOffsets: number[];
}

const MAX_SEQUENCE = 10 ** EVENT_ID_SEQUENCE_DIGITS - 1;
/** Tag of ReportEventsRequest.events[].event_id: field 1, length-delimited. */
const EVENT_ID_TAG = 0x0a;

function locateSequenceDigits(encoded: Buffer, label: string, cycleIndex: number, batchSize: number): number[] {
  const offsets: number[] = [];
  let from = 0;
  for (let position = 0; position < batchSize; position++) {
    const id = Buffer.from(benchEventId(label, cycleIndex, position), 'utf8');
    if (id.length >= 0x80) throw new Error(`event id ${id.toString()} is too long for a one-byte length`);
    // The id's field as encoded, tag and length included, so a payload string cannot match.
    const field = Buffer.concat([Buffer.from([EVENT_ID_TAG, id.length]), id]);
    const at = encoded.indexOf(field, from);
    if (at === -1) throw new Error(`event id ${id.toString()} was not found in its encoded batch`);
    offsets.push(at + 2 + Buffer.byteLength(`${label}-`));
    from = at + field.length;
  }
  return offsets;
}

function encodeTemplate(codec: ReportEventsCodec, pool: EventPool, label: string, cycleIndex: number, batchSize: number): Template {
  const { events } = wireBatch(pool, label, cycleIndex, batchSize, '');
  const encoded = codec.encodeRequest({ events });
  return { events: encoded, sequenceOffsets: locateSequenceDigits(encoded, label, cycleIndex, batchSize) };
}

/** Proves the stamping right once per template: the decoded request must be the batch asked for. */
function checkTemplate(codec: ReportEventsCodec, requests: EncodedRequests, label: string, cycleIndex: number, cycle: number, batchSize: number): void {
  const sequence = cycleIndex + cycle * 1_234_567;
  const decoded = codec.decodeRequest(requests.request(label, sequence, 0)) as { events: { eventId: string }[]; sensorId: string };
  const ids = decoded.events.map((event) => event.eventId);
  const expected = Array.from({ length: batchSize }, (_, position) => benchEventId(label, sequence, position));
  if (decoded.sensorId !== 'bench-sensor-0' || ids.join() !== expected.join()) {
    throw new Error(`the pre-encoded ${label} batch ${sequence} does not decode to its own event ids and sensor id`);
  }
}

export function encodeRequests(options: {
  codec: ReportEventsCodec;
  pool: EventPool;
  batchSize: number;
  labels: readonly string[];
  streams: number;
}): EncodedRequests {
  const { codec, pool, batchSize } = options;
  const cycle = batchCycle(pool, batchSize);
  const templates = new Map<string, Template[]>(
    options.labels.map((label) => [label, Array.from({ length: cycle }, (_, index) => encodeTemplate(codec, pool, label, index, batchSize))]),
  );
  const sensorFields = Array.from({ length: options.streams }, (_, worker) =>
    codec.encodeRequest(wireBatch(pool, 'sensor', 0, 0, `bench-sensor-${worker}`)),
  );

  const requests: EncodedRequests = {
    request: (label, sequence, worker) => {
      const template = templates.get(label)?.[sequence % cycle];
      const tail = sensorFields[worker];
      if (!template || !tail) throw new Error(`no pre-encoded request for ${label} batch ${sequence} of sensor ${worker}`);
      if (!Number.isInteger(sequence) || sequence < 0 || sequence > MAX_SEQUENCE) {
        throw new Error(`batch sequence ${sequence} does not fit ${EVENT_ID_SEQUENCE_DIGITS} digits`);
      }
      const request = Buffer.concat([template.events, tail]);
      const digits = String(sequence).padStart(EVENT_ID_SEQUENCE_DIGITS, '0');
      for (const offset of template.sequenceOffsets) request.write(digits, offset, EVENT_ID_SEQUENCE_DIGITS, 'latin1');
      return request;
    },
  };
  for (const label of options.labels) {
    for (let index = 0; index < cycle; index++) checkTemplate(codec, requests, label, index, cycle, batchSize);
  }
  return requests;
}
