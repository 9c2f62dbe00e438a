import type { DockerEngine } from '../engine.js';
import { DeployError } from '../../../components/errors.js';
import { SLOTS, type Slot } from '../spec.js';
import { ROUTING_DIR, type ProxyRouting, type RoutedRelease } from './constants.js';

/**
 * Release ids are an image tag (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`) with optional semver build
 * metadata (`+cfg.<digest>`): characters safe in a shell word and a file.
 */
const RELEASE_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(\+[A-Za-z0-9.-]{1,64})?$/;

/** Exit code of the routing script when the markers are not what the release read. */
export const ROUTING_CHANGED_EXIT_CODE = 3;

type Role = 'live' | 'staging';

function describe(target: RoutedRelease | null): string {
  return target ? `${target.slot} (release ${target.releaseId})` : 'none';
}

/** Lists the routing markers, one `name<TAB>content` line each (release files hold the release id). */
export function planReadRouting(): string {
  return [
    `cd ${ROUTING_DIR} 2>/dev/null || exit 0`,
    `for f in live-* staging-* release-*; do [ -f "$f" ] && printf '%s\\t%s\\n' "$f" "$(cat "$f")"; done`,
    'exit 0',
  ].join('\n');
}

function routedTo(role: Role, files: Map<string, string>): RoutedRelease | null {
  const slots = SLOTS.filter((slot) => files.has(`${role}-${slot}`));
  if (slots.length > 1) {
    throw new DeployError(
      `Both ${role}-blue and ${role}-green routing markers exist in ${ROUTING_DIR} of the Caddy container; the ${role} slot is ambiguous`,
      `remove the wrong one (docker exec <caddy> rm ${ROUTING_DIR}/${role}-<slot>) after checking which slot serves the intended release`,
    );
  }
  const [slot] = slots;
  if (!slot) return null;
  const releaseId = files.get(`release-${slot}`)?.trim();
  if (!releaseId) {
    throw new DeployError(
      `The ${role} routing marker points at ${slot} but ${ROUTING_DIR}/release-${slot} is missing in the Caddy container`,
      `run the release again (it rewrites the routing), or write the release id the ${slot} slot runs into that file`,
    );
  }
  return { slot, releaseId };
}

/** Reads the output of planReadRouting into the routing Caddy applies. */
export function parseRouting(listing: string): ProxyRouting {
  const files = new Map<string, string>();
  for (const line of listing.split('\n')) {
    if (!line.trim()) continue;
    const tab = line.indexOf('\t');
    files.set(tab < 0 ? line : line.slice(0, tab), tab < 0 ? '' : line.slice(tab + 1));
  }
  return { live: routedTo('live', files), staging: routedTo('staging', files) };
}

function assertReleaseId(target: RoutedRelease | null): void {
  if (target && !RELEASE_ID.test(target.releaseId)) {
    throw new DeployError(`Release id ${JSON.stringify(target.releaseId)} is not a valid release id`, 'use the tag `<semver>-<git sha>-<UTC timestamp>`, optionally followed by `+cfg.<digest>`');
  }
}

/** `[ -e m ]` / `[ ! -e m ]` for both slots: the markers must still be exactly `target`. */
function expectMarkers(role: Role, target: RoutedRelease | null): string[] {
  return SLOTS.map((slot) => (target?.slot === slot ? `[ -e ${role}-${slot} ]` : `[ ! -e ${role}-${slot} ]`));
}

/** The one step that moves a role: an atomic rename, or creating/removing its marker. */
function moveMarker(role: Role, from: RoutedRelease | null, to: RoutedRelease | null): string[] {
  if (from?.slot === to?.slot) return [];
  if (from && to) return [`mv ${role}-${from.slot} ${role}-${to.slot}`];
  if (to) return [`: > .${role}.tmp`, `mv .${role}.tmp ${role}-${to.slot}`];
  return [`rm ${role}-${(from as RoutedRelease).slot}`];
}

/**
 * The shell script (run inside the Caddy container) that changes the routing from `from` to
 * `to`: it first checks the markers are still `from` (a concurrent change makes it exit with
 * ROUTING_CHANGED_EXIT_CODE and touch nothing), writes the release ids atomically (temp file +
 * rename), then moves the live marker in one rename (the switch: every public route, HTTP and
 * gRPC, follows it at once), then the staging marker.
 */
export function planRoutingChange(from: ProxyRouting, to: ProxyRouting): string {
  [from.live, from.staging, to.live, to.staging].forEach(assertReleaseId);
  if (to.live && to.staging && to.live.slot === to.staging.slot) {
    throw new Error(`planRoutingChange: live and staging cannot both be ${to.live.slot}`);
  }
  const releases = [to.live, to.staging].filter((t): t is RoutedRelease => t !== null);
  return [
    'set -e',
    `mkdir -p ${ROUTING_DIR}`,
    `cd ${ROUTING_DIR}`,
    `${[...expectMarkers('live', from.live), ...expectMarkers('staging', from.staging)].join(' && ')} || exit ${ROUTING_CHANGED_EXIT_CODE}`,
    ...releases.flatMap(({ slot, releaseId }) => [`printf '%s' '${releaseId}' > .release-${slot}.tmp`, `mv -f .release-${slot}.tmp release-${slot}`]),
    ...moveMarker('live', from.live, to.live),
    ...moveMarker('staging', from.staging, to.staging),
  ].join('\n');
}

/** Changes the routing inside the Caddy container; fails without a change if it is no longer `from`. */
export async function applyRouting(engine: DockerEngine, container: string, from: ProxyRouting, to: ProxyRouting): Promise<{ durationMs: number }> {
  const started = performance.now();
  const result = await engine.exec(['exec', container, 'sh', '-c', planRoutingChange(from, to)]);
  const durationMs = Math.round(performance.now() - started);
  if (result.exitCode === ROUTING_CHANGED_EXIT_CODE) {
    throw new DeployError(
      `Caddy's routing changed since this release read it (expected live ${describe(from.live)}, staging ${describe(from.staging)}); nothing was switched`,
      'check for another release or a manual change, then run the release again',
    );
  }
  if (result.exitCode !== 0) {
    throw new DeployError(
      `Changing the routing in the Caddy container ${container} failed (exit code ${result.exitCode}): ${result.stderr.trim()}`,
      `docker exec ${container} ls -l ${ROUTING_DIR}`,
    );
  }
  return { durationMs };
}
