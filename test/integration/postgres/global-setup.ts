import { usePgBouncer } from '../../harness/pgbouncer.js';

// PgBouncer (transaction pooling, 127.0.0.1:6433) in front of the Postgres CI starts; each test
// file makes its own schema, so there is no shared state to clear here.
export default async function setup(): Promise<() => Promise<void>> {
  return usePgBouncer();
}
