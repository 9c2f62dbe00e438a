// @ts-check
// The release process `pulumi up` starts (providers/release-cli.ts, through the compile cache):
//   node launcher/release-cli.mjs deploy|destroy|status --stack S|lock status|break --stack S
import { importTypeScript } from './compile-cache.mjs';

await importTypeScript('providers/release-cli.ts');
