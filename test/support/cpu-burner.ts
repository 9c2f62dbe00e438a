import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';

/**
 * Other work on the same machine: `count` processes (default: one per core) that spin at normal
 * priority until stopped, as a busy CI machine's neighbours do.
 */
export function burnCpus(count = availableParallelism()): { stop(): void } {
  const burners: ChildProcess[] = Array.from({ length: count }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
  );
  return {
    stop() {
      for (const burner of burners) burner.kill('SIGKILL');
    },
  };
}
