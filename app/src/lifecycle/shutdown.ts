import type { Logger } from '../log/logger.js';

export interface ShutdownStep {
  name: string;
  run: () => Promise<void>;
}

/**
 * Runs the steps in order when SIGTERM or SIGINT arrives (stop accepting, drain in-flight work,
 * close the pool), then exits 0; a second signal exits at once. Blue-green swaps rely on this:
 * the old slot gets SIGTERM and must finish what it started.
 */
export function shutdownOnSignal(logger: Logger, steps: () => ShutdownStep[]): { shuttingDown: () => boolean } {
  let started = false;
  const handle = (signal: NodeJS.Signals) => {
    if (started) {
      logger.warn({ signal }, 'second signal: exiting without waiting for the drain');
      process.exit(1);
    }
    started = true;
    logger.info({ signal }, 'shutting down: draining in-flight requests');
    void (async () => {
      let failed = false;
      for (const step of steps()) {
        try {
          await step.run();
          logger.info({ step: step.name }, 'shutdown step done');
        } catch (error) {
          failed = true;
          logger.error({ step: step.name, err: error }, 'shutdown step failed');
        }
      }
      logger.info('shutdown complete');
      logger.flush?.();
      process.exit(failed ? 1 : 0);
    })();
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
  return { shuttingDown: () => started };
}
