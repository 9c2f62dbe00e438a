/**
 * The docker commands behind the deploy lock, as argv arrays. The lock is a container that is
 * created and never started: the engine refuses a second container of the same name
 * atomically (also over DOCKER_HOST=ssh://), and its labels say who holds it.
 */

/** Tiny local image the lock container is created from (imported from an empty tar, no registry). */
export const DEFAULT_LOCK_IMAGE = 'trapperkeeper-deploy-lock:1';

/** How often a waiting release asks whether the lock is free. */
export const DEFAULT_LOCK_POLL_MS = 1000;

export function lockContainerName(prefix: string): string {
  return `${prefix}-deploy-lock`;
}

export function createLockArgs(name: string, labels: Record<string, string>, image = DEFAULT_LOCK_IMAGE): string[] {
  const labelArgs = Object.keys(labels)
    .sort()
    .flatMap((key) => ['--label', `${key}=${labels[key]}`]);
  // The command is never run; `create` only needs one to exist in the config.
  return ['container', 'create', '--name', name, '--network', 'none', '--restart', 'no', ...labelArgs, image, 'deploy-lock'];
}

export function inspectLockArgs(name: string): string[] {
  return ['container', 'inspect', '--format', '{{json .}}', name];
}

/** By container id, so a lock another release re-created under the same name is never removed. */
export function removeLockArgs(containerId: string): string[] {
  return ['container', 'rm', '--force', containerId];
}

export function inspectLockImageArgs(image = DEFAULT_LOCK_IMAGE): string[] {
  return ['image', 'inspect', '--format', '{{.Id}}', image];
}

/** `docker import` reads the (empty) root filesystem tar from stdin: see `EMPTY_TAR`. */
export function importLockImageArgs(image = DEFAULT_LOCK_IMAGE): string[] {
  return ['image', 'import', '--change', 'LABEL org.trapperkeeper.purpose=deploy-lock', '-', image];
}

/** An empty tar archive: two zero blocks. */
export const EMPTY_TAR = Buffer.alloc(1024);

export function isNameConflict(stderr: string): boolean {
  return /Conflict\. The container name .* is already in use|is already in use by container/i.test(stderr);
}

export function isNoSuchObject(stderr: string): boolean {
  return /No such (container|object|image)/i.test(stderr);
}

export function isMissingImage(stderr: string): boolean {
  return /Unable to find image|No such image|pull access denied|repository does not exist/i.test(stderr);
}
