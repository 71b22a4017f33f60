import { mkdirSync, writeFileSync } from 'node:fs';
import type { RecordedRequest } from '../../harness/fake-kube-apiserver.js';

/** Where the reconcile tests leave the API calls they saw, for the RBAC test to compare. */
export const RECORDED_CALLS_FILE = '.cache/operator-recorded-calls.json';

export function recordApiCalls(requests: RecordedRequest[]): void {
  const set = new Set(requests.filter((r) => r.verb !== 'discovery').map((r) => `${r.group}|${r.resource}|${r.verb}`));
  mkdirSync('.cache', { recursive: true });
  writeFileSync(RECORDED_CALLS_FILE, `${JSON.stringify([...set].sort(), null, 2)}\n`);
}
