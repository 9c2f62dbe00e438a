// The load worker's entry (bench/load-worker.ts): tsx's loader is registered per thread, and a
// worker's first module is read before an --import could register it, so this plain module
// registers it, then loads the TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./load-worker.ts');
