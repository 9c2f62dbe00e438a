// @ts-check
// The Pulumi program (Pulumi.yaml's main): index.ts, compiled by the compile cache instead of
// run under tsx's loader, which cost the language host's Node about a second of CPU on every
// `pulumi up` and `pulumi preview`.
import { importTypeScript } from './compile-cache.mjs';

const { default: program } = await importTypeScript('index.ts');
export default program;
