import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { natsUrl, TEST_STREAM_PREFIX } from '../../harness/nats.js';

/**
 * Once per run: NATS with JetStream must answer on the loopback, and streams left by an earlier
 * run that crashed (names starting TI_) are removed. Each test file still uses unique names, so
 * files run in parallel without touching each other's data.
 */
export default async function setup(): Promise<void> {
  const nc = await connect({ servers: natsUrl, timeout: 5000 }).catch((err: Error) => {
    throw new Error(`NATS is not reachable at ${natsUrl} (start nats-server -js): ${err.message}`);
  });
  try {
    const jsm = await jetstreamManager(nc);
    for await (const name of jsm.streams.names()) {
      if (!name.startsWith(TEST_STREAM_PREFIX)) continue;
      const info = await jsm.streams.info(name).catch(() => null);
      // Only streams older than 10 minutes: another run may be using fresh ones right now.
      if (info && Date.now() - new Date(info.created).getTime() > 600_000) await jsm.streams.delete(name).catch(() => undefined);
    }
  } finally {
    await nc.close();
  }
}
