/** google.protobuf.Timestamp as @grpc/proto-loader decodes it (longs as numbers). */
export interface WireTimestamp {
  seconds?: number | string | null;
  nanos?: number | null;
}

// The range google.protobuf.Timestamp allows: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
const MIN_SECONDS = -62_135_596_800;
const MAX_SECONDS = 253_402_300_799;

/**
 * A Date for a wire timestamp; null for an unset one; undefined when it is outside the range
 * a Timestamp may hold (the caller decides whether that is an error). Sub-millisecond nanos
 * are dropped: the database keeps milliseconds.
 */
export function timestampToDate(timestamp: WireTimestamp | null | undefined): Date | null | undefined {
  if (!timestamp) return null;
  const seconds = Number(timestamp.seconds ?? 0);
  const nanos = Number(timestamp.nanos ?? 0);
  if (!Number.isInteger(seconds) || seconds < MIN_SECONDS || seconds > MAX_SECONDS) return undefined;
  if (!Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) return undefined;
  return new Date(seconds * 1000 + Math.floor(nanos / 1_000_000));
}

/** The wire form of an RFC 3339 / ISO-8601 time. */
export function isoToTimestamp(iso: string): { seconds: number; nanos: number } {
  const millis = Date.parse(iso);
  if (Number.isNaN(millis)) throw new TypeError(`not a timestamp: ${iso}`);
  const seconds = Math.floor(millis / 1000);
  return { seconds, nanos: (millis - seconds * 1000) * 1_000_000 };
}
