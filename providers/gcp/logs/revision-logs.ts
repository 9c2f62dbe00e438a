import * as grpc from '@grpc/grpc-js';
import { v2, type protos } from '@google-cloud/logging';
import type { CloudRunEndpoint } from '../run/clients.js';

/**
 * The log lines of Cloud Run revisions, from Cloud Logging: what a revision's containers wrote to
 * stdout and stderr (Cloud Run's logs `run.googleapis.com/stdout` and `/stderr`; its request log
 * is left out), read with the official client from logging.googleapis.com with Application
 * Default Credentials, or (tests) from emulator/cloud-logging.ts over plaintext gRPC on 127.0.0.1.
 */
export type LoggingClient = InstanceType<typeof v2.LoggingServiceV2Client>;

export function loggingClient(endpoint?: CloudRunEndpoint): LoggingClient {
  return new v2.LoggingServiceV2Client(endpoint ? { apiEndpoint: endpoint.host, port: endpoint.port, sslCreds: grpc.credentials.createInsecure() } : {});
}

/** Where one service's lines are: its revision serving now. */
export interface RevisionLogSource {
  project: string;
  region: string;
  service: string;
  /** The revision id (the last part of its name). */
  revision: string;
}

export interface RevisionLogLine {
  source: RevisionLogSource;
  stream: 'stdout' | 'stderr';
  text: string;
  at: number;
  id: string;
}

/** The query of a source's lines (the logging query language), also what `gcloud logging read` takes. */
export function revisionLogFilter(source: RevisionLogSource): string {
  const log = (stream: string) => `logName="projects/${source.project}/logs/run.googleapis.com%2F${stream}"`;
  return (
    `resource.type="cloud_run_revision" AND resource.labels.location="${source.region}" AND resource.labels.service_name="${source.service}" ` +
    `AND resource.labels.revision_name="${source.revision}" AND (${log('stdout')} OR ${log('stderr')})`
  );
}

type Entry = protos.google.logging.v2.ILogEntry;
type StructValue = { kind?: string; nullValue?: unknown; numberValue?: number; stringValue?: string; boolValue?: boolean; structValue?: { fields?: Record<string, StructValue> }; listValue?: { values?: StructValue[] } };

/** google.protobuf.Struct as the JSON it was (a pino line Cloud Run parsed into jsonPayload). */
function plain(value: StructValue): unknown {
  if (value.structValue) return Object.fromEntries(Object.entries(value.structValue.fields ?? {}).map(([k, v]) => [k, plain(v)]));
  if (value.listValue) return (value.listValue.values ?? []).map(plain);
  if (value.stringValue !== undefined && value.stringValue !== null) return value.stringValue;
  if (value.numberValue !== undefined && value.numberValue !== null) return value.numberValue;
  if (value.boolValue !== undefined && value.boolValue !== null) return value.boolValue;
  return null;
}

function lineOf(source: RevisionLogSource, entry: Entry): RevisionLogLine {
  const seconds = Number(entry.timestamp?.seconds ?? 0);
  const at = seconds * 1000 + Math.floor((entry.timestamp?.nanos ?? 0) / 1e6);
  const payload = entry.jsonPayload as { fields?: Record<string, StructValue> } | null | undefined;
  const text = entry.textPayload ?? (payload ? JSON.stringify(plain({ structValue: payload })) : '');
  return { source, stream: entry.logName?.endsWith('%2Fstderr') ? 'stderr' : 'stdout', text, at, id: entry.insertId ?? `${at}` };
}

/** The last `tail` lines of a source, oldest first. */
export async function lastRevisionLines(client: LoggingClient, source: RevisionLogSource, tail: number | 'all'): Promise<RevisionLogLine[]> {
  const resourceNames = [`projects/${source.project}`];
  const filter = revisionLogFilter(source);
  if (tail === 'all') {
    const [entries] = await client.listLogEntries({ resourceNames, filter, orderBy: 'timestamp asc', pageSize: 1000 });
    return entries.map((entry: Entry) => lineOf(source, entry));
  }
  const lines: RevisionLogLine[] = [];
  let pageToken: string | undefined;
  while (lines.length < tail) {
    const [entries, , response] = await client.listLogEntries({ resourceNames, filter, orderBy: 'timestamp desc', pageSize: Math.min(tail - lines.length, 1000), ...(pageToken ? { pageToken } : {}) }, { autoPaginate: false });
    lines.push(...entries.map((entry: Entry) => lineOf(source, entry)));
    pageToken = response?.nextPageToken || undefined;
    if (!pageToken || entries.length === 0) break;
  }
  return lines.slice(0, tail).reverse();
}

/** The lines of every source written at or after `since` (ms), oldest first: what `logs --follow` polls (providers/log-follow.ts). */
export async function revisionLinesSince(client: LoggingClient, sources: RevisionLogSource[], since: number): Promise<RevisionLogLine[]> {
  const after = new Date(since).toISOString();
  const lines = await Promise.all(
    sources.map(async (source) => {
      const [entries] = await client.listLogEntries({ resourceNames: [`projects/${source.project}`], filter: `${revisionLogFilter(source)} AND timestamp>="${after}"`, orderBy: 'timestamp asc', pageSize: 1000 });
      return entries.map((entry: Entry) => lineOf(source, entry));
    }),
  );
  return lines.flat().sort((a, b) => a.at - b.at);
}
