/**
 * Seconds Docker waits after SIGTERM beyond the app's own drain (TK_SHUTDOWN_TIMEOUT_MS), so the
 * app finishes its in-flight requests and exits 0 on its own instead of being killed.
 */
export const STOP_GRACE_SECONDS = 5;

/** `docker stop --time` / `docker run --stop-timeout` for a slot container: always >= the drain. */
export function slotStopTimeoutSeconds(drainTimeoutMs: number): number {
  return Math.ceil(drainTimeoutMs / 1000) + STOP_GRACE_SECONDS;
}
