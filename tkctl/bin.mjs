#!/usr/bin/env node
// The `tkctl` bin: tkctl/main.ts, compiled by the toolkit's compile cache (no loader hook, no
// second Node process), run in the caller's folder (the Pulumi project).
import { importTypeScript } from '../launcher/compile-cache.mjs';

let tkctl;
try {
  tkctl = await importTypeScript('tkctl/main.ts');
} catch (error) {
  process.stderr.write(`error: ${error.message}\n`);
  process.exit(1);
}
process.exitCode = await tkctl.runTkctl(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), stdin: process.stdin });
