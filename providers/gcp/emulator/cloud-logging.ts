/**
 * Test fixture (not exported by the barrel): the part of the Cloud Logging API v2 that `tkctl
 * logs` uses, served over gRPC on 127.0.0.1 from the official protos that @google-cloud/logging
 * ships (through @google-cloud/logging-api), so the real LoggingServiceV2Client talks to it with
 * its own wire format.
 *
 * LoggingServiceV2.WriteLogEntries (what Cloud Run's log agent does with a revision's output;
 * entries keep their timestamp, else get the time of the write) and ListLogEntries: the entries
 * of the named projects that match the filter, ordered by timestamp (`timestamp asc`, the
 * default, or `timestamp desc`), in pages. The filter is the subset of the logging query language
 * the toolkit writes: comparisons `field="value"` (`=`, `>`, `>=`, `<`, `<=` on timestamp) of
 * `logName`, `resource.type`, `resource.labels.<k>`, `labels.<k>`, `severity` and `timestamp`,
 * joined by AND, with parenthesised OR groups; anything else is refused with INVALID_ARGUMENT, as
 * a filter Cloud Logging cannot parse is.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

process.env.METADATA_SERVER_DETECTION = 'none';
const require = createRequire(import.meta.url);
const LOGGING_PROTOS = join(dirname(require.resolve('@google-cloud/logging-api/package.json')), 'build', 'protos');
const GAX_PROTOS = join(dirname(require.resolve('google-gax')), '..', 'protos');

/** A log entry as the API carries it (proto-loader's object form). */
export interface WireLogEntry {
  logName?: string;
  resource?: { type?: string; labels?: Record<string, string> };
  timestamp?: { seconds?: string | number; nanos?: number };
  textPayload?: string;
  jsonPayload?: unknown;
  severity?: string;
  labels?: Record<string, string>;
  insertId?: string;
  [key: string]: unknown;
}

export interface CloudLoggingEmulator {
  host: string;
  port: number;
  /** Every entry written, in the order written. */
  entries: WireLogEntry[];
  /** The filters ListLogEntries was called with. */
  filters: string[];
  stop(): Promise<void>;
}

type Callback = grpc.sendUnaryData<unknown>;
const refuse = (callback: Callback, code: grpc.status, details: string) => callback({ code, details, name: 'Error', message: details });

const millisOf = (entry: WireLogEntry) => Number(entry.timestamp?.seconds ?? 0) * 1000 + Math.floor((entry.timestamp?.nanos ?? 0) / 1e6);

type Predicate = (entry: WireLogEntry) => boolean;

/** The value of a filter field on an entry (undefined when it has none). */
function fieldOf(entry: WireLogEntry, path: string): string | undefined {
  if (path === 'logName') return entry.logName;
  if (path === 'severity') return entry.severity;
  if (path === 'resource.type') return entry.resource?.type;
  if (path.startsWith('resource.labels.')) return entry.resource?.labels?.[path.slice('resource.labels.'.length)];
  if (path.startsWith('labels.')) return entry.labels?.[path.slice('labels.'.length)];
  throw new Error(`unsupported field ${path}`);
}

function comparison(text: string): Predicate {
  const match = /^([a-zA-Z_.]+)\s*(>=|<=|=|>|<)\s*"([^"]*)"$/.exec(text.trim());
  if (!match) throw new Error(`unsupported expression ${text}`);
  const [, path, op, value] = match as unknown as [string, string, string, string];
  if (path === 'timestamp') {
    const at = Date.parse(value);
    if (Number.isNaN(at)) throw new Error(`not a timestamp: ${value}`);
    const compare: Record<string, (a: number) => boolean> = { '=': (a) => a === at, '>': (a) => a > at, '>=': (a) => a >= at, '<': (a) => a < at, '<=': (a) => a <= at };
    return (entry) => compare[op]!(millisOf(entry));
  }
  if (op !== '=') throw new Error(`only = compares ${path}`);
  fieldOf({}, path);
  return (entry) => fieldOf(entry, path) === value;
}

/** Splits `text` at top-level (outside quotes and parentheses) occurrences of ` <word> `. */
function splitTop(text: string, word: 'AND' | 'OR'): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '(') depth += 1;
    else if (!quoted && c === ')') depth -= 1;
    else if (!quoted && depth === 0 && text.startsWith(` ${word} `, i)) {
      parts.push(text.slice(start, i));
      start = i + word.length + 2;
      i = start - 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter(Boolean);
}

export function parseFilter(filter: string): Predicate {
  const clauses = splitTop(filter.replace(/\s+/g, ' ').trim(), 'AND').map((clause): Predicate => {
    if (clause.startsWith('(') && clause.endsWith(')')) {
      const alternatives = splitTop(clause.slice(1, -1), 'OR').map((alternative) => parseFilter(alternative));
      return (entry) => alternatives.some((matches) => matches(entry));
    }
    return comparison(clause);
  });
  return (entry) => clauses.every((matches) => matches(entry));
}

export async function startCloudLoggingEmulator(): Promise<CloudLoggingEmulator> {
  const definition = protoLoader.loadSync(['google/logging/v2/logging.proto'], { includeDirs: [LOGGING_PROTOS, GAX_PROTOS], keepCase: false, enums: String, longs: String, defaults: false, oneofs: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { google: { logging: { v2: { LoggingServiceV2: { service: grpc.ServiceDefinition } } } } };
  const entries: WireLogEntry[] = [];
  const filters: string[] = [];
  let inserted = 0;

  const server = new grpc.Server();
  server.addService(loaded.google.logging.v2.LoggingServiceV2.service, {
    WriteLogEntries(call: grpc.ServerUnaryCall<{ logName?: string; resource?: WireLogEntry['resource']; labels?: Record<string, string>; entries?: WireLogEntry[] }, unknown>, callback: Callback) {
      const now = Date.now();
      for (const entry of call.request.entries ?? []) {
        inserted += 1;
        entries.push({
          ...entry,
          logName: entry.logName ?? call.request.logName,
          resource: entry.resource ?? call.request.resource,
          labels: { ...call.request.labels, ...entry.labels },
          timestamp: entry.timestamp ?? { seconds: String(Math.floor(now / 1000)), nanos: (now % 1000) * 1e6 },
          insertId: entry.insertId ?? `e${inserted}`,
        });
      }
      callback(null, {});
    },
    ListLogEntries(call: grpc.ServerUnaryCall<{ resourceNames?: string[]; filter?: string; orderBy?: string; pageSize?: number; pageToken?: string }, unknown>, callback: Callback) {
      const { resourceNames = [], filter = '', orderBy = 'timestamp asc', pageSize, pageToken } = call.request;
      if (resourceNames.length === 0) return refuse(callback, grpc.status.INVALID_ARGUMENT, 'resource_names is required');
      let matches: Predicate;
      try {
        matches = filter ? parseFilter(filter) : () => true;
      } catch (error) {
        return refuse(callback, grpc.status.INVALID_ARGUMENT, `Unparseable filter: ${(error as Error).message}`);
      }
      if (!['timestamp asc', 'timestamp desc', ''].includes(orderBy)) return refuse(callback, grpc.status.INVALID_ARGUMENT, `order_by ${orderBy} is not supported`);
      filters.push(filter);
      const projects = new Set(resourceNames.map((name) => name.replace(/^projects\//, '')));
      const found = entries
        .filter((entry) => projects.has(entry.logName?.split('/')[1] ?? '') && matches(entry))
        .sort((a, b) => millisOf(a) - millisOf(b) || entries.indexOf(a) - entries.indexOf(b));
      if (orderBy === 'timestamp desc') found.reverse();
      const size = Math.min(pageSize && pageSize > 0 ? pageSize : 50, 1000);
      const from = pageToken ? Number(pageToken) : 0;
      const page = found.slice(from, from + size);
      callback(null, { entries: page, nextPageToken: from + size < found.length ? String(from + size) : '' });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    host: '127.0.0.1',
    port,
    entries,
    filters,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
