import { Writable } from 'node:stream';
import { createDeployEvents, type DeployEvents } from '../../components/events/deploy-events.js';

/** Deploy events captured as parsed JSON lines. */
export function capturedEvents(): { events: DeployEvents; lines: Array<Record<string, unknown>>; names(): string[] } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { events: createDeployEvents({ format: 'json', destination, jsonFile: '' }), lines, names: () => lines.map((line) => String(line.event)) };
}
