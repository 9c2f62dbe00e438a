#!/usr/bin/env node
// Entry point of the `trapperkeeper` command: the compiled CLI in dist/.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('trapperkeeper is not built yet.\n  fix: run `npm run build` in the repository root (npm ci does it too)');
  process.exit(1);
}
await import(cli.href);
