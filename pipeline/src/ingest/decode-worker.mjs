// Entry of a source's decode worker (source-decoder.ts). aisflow runs its TypeScript through tsx
// (bin/aisflow.mjs) and a worker thread starts without the main thread's loader, so it registers
// tsx itself; this holds under the CLI, `node --import tsx` and vitest alike.
import { register } from 'tsx/esm/api';

register();
await import('./decode-worker.ts');
