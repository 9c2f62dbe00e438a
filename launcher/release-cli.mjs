// @ts-check
// The release process `pulumi up` starts (providers/release-cli.ts, through the compile cache):
//   node launcher/release-cli.mjs deploy|destroy|status --stack S|lock status|break --stack S
import { importTypeScript } from './compile-cache.mjs';

try {
  await importTypeScript('providers/release-cli.ts');
} catch (error) {
  // Code that does not compile or load: the CLI reports its own failures and sets the exit code.
  process.stderr.write(`error: ${/** @type {Error} */ (error).message}\n`);
  process.exit(1);
}
