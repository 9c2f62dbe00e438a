import type { Command } from 'commander';
import { BUILD_INFO } from '../../version.js';

export function registerVersionCommand(program: Command): void {
  program
    .command('version')
    .description('Print the version, git commit and build date embedded at build time')
    .option('--json', 'print as JSON')
    .action((options: { json?: boolean }) => {
      if (options.json) {
        process.stdout.write(`${JSON.stringify(BUILD_INFO)}\n`);
      } else {
        process.stdout.write(`trapperkeeper ${BUILD_INFO.version} (commit ${BUILD_INFO.commit}, built ${BUILD_INFO.buildDate})\n`);
      }
    });
}
