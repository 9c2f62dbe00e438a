import { setTimeout as sleep } from 'node:timers/promises';

/** How often `logs --follow` asks a target's log service (CloudWatch Logs, Cloud Logging) for new lines. */
export const FOLLOW_POLL_MS = 2_000;

/** A log line as a follow tracks it: its id in the target's log service and when it was written (ms since the epoch). */
export interface FollowedLine {
  id: string;
  at: number;
}

/** Where a follow starts: the lines `logs` printed before it (the tail), and the earliest time it reads from when they are older. */
export interface FollowStart<Line extends FollowedLine> {
  since: number;
  printed: readonly Line[];
}

/**
 * `logs --follow` on a target whose log service is polled (providers/stack-operations.ts
 * StackOperations.logs): every FOLLOW_POLL_MS, the lines `linesSince` reads from the time of the
 * newest line printed, each written once, until SIGINT or SIGTERM (Ctrl-C), a clean end.
 *
 * `linesSince(t)` gives the target's lines written at or after t, oldest first (the order they
 * are written in). t is inclusive so that a line written in the same millisecond as the newest
 * one printed, but read after it, is not lost; the ids of the lines printed keep those read again
 * from being printed twice.
 */
export async function followLines<Line extends FollowedLine>(linesSince: (since: number) => Promise<Line[]>, start: FollowStart<Line>, write: (line: Line) => void): Promise<void> {
  const seen = new Set(start.printed.map((line) => line.id));
  let since = start.printed.reduce((newest, line) => Math.max(newest, line.at), start.since);
  // `on`, not `once`: a terminal's Ctrl-C reaches this process twice (the tkctl bin forwards it too).
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    while (!stopped) {
      const fresh = (await linesSince(since)).filter((line) => !seen.has(line.id));
      for (const line of fresh) {
        seen.add(line.id);
        since = Math.max(since, line.at);
        write(line);
      }
      const end = Date.now() + FOLLOW_POLL_MS;
      while (!stopped && Date.now() < end) await sleep(100);
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
