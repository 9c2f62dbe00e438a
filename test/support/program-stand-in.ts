import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from './images.js';

/**
 * For a scratch project that copied this repository's Pulumi.yaml: an empty file where its
 * `main:` says the program is, since the CLI checks that the entry exists even when it does not
 * run the program (destroying an empty stack, previewing a destroy). Nothing when Pulumi.yaml
 * names no main (the program is then the project folder, found through package.json).
 */
export function writeProgramStandIn(projectDir: string): void {
  const main = /^main:\s*(\S+)\s*$/m.exec(readFileSync(join(REPO_ROOT, 'Pulumi.yaml'), 'utf8'))?.[1];
  if (!main) return;
  mkdirSync(dirname(join(projectDir, main)), { recursive: true });
  writeFileSync(join(projectDir, main), '');
}
