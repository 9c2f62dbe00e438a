#!/usr/bin/env node
// The `tkctl` bin: runs tkctl/main.ts under tsx in a child Node, in the caller's folder (the
// Pulumi project). tsx is resolved from here, so it works from any working directory.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const tsx = import.meta.resolve('tsx');
const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const child = spawn(process.execPath, ['--import', tsx, main, ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal === "SIGINT" ? 130 : 143);
});
