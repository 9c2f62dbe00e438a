import { createDeployEvents, type DeployEvents } from '../components/events/deploy-events.js';
import type { StackState } from '../providers/docker/stack-status.js';
import { eventsFile } from './deploy-history.js';
import type { TkctlIo } from './io.js';

/** Progress lines on stderr, and every event appended to the stack's event log like a release's. */
export function stackEvents(io: TkctlIo, stack: string): DeployEvents {
  return createDeployEvents({ destination: io.stderr, jsonFile: eventsFile(io.cwd, stack) });
}

/** The git commit of the release serving now (snapshot names carry it). */
export function liveCommit(state: StackState): string {
  const live = state.records.find((record) => record && record.slot === state.report.live?.slot) ?? state.records.find(Boolean);
  return live?.plan.image.commit ?? 'unknown';
}
