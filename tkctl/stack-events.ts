import { createDeployEvents, type DeployEvents } from '../components/events/deploy-events.js';
import { eventsFile } from './deploy-history.js';
import type { TkctlIo } from './io.js';

/** Progress lines on stderr, and every event appended to the stack's event log like a release's. */
export function stackEvents(io: TkctlIo, stack: string): DeployEvents {
  return createDeployEvents({ destination: io.stderr, jsonFile: eventsFile(io.cwd, stack) });
}
