import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultDecideSettings } from '../../../pipeline/src/fusion/decide.js';
import { defaultTrustSettings } from '../../../pipeline/src/fusion/trust.js';
import { FusionWorker } from '../../../pipeline/src/fusion/worker.js';
import { isValidMmsi } from '../../../pipeline/src/store/mmsi.js';
import type { AisBatchV1, AisRecordV1 } from '../../../pipeline/src/shared/ais-record.js';
import { systemClock } from '../../../pipeline/src/shared/clock.js';
import type { NatsNames } from '../../../pipeline/src/shared/subjects.js';
import { openFusionStores, type OpenedStores } from '../../harness/fusion-stores.js';
import { natsUrl, quietLogger, testMetrics, uniqueId, waitFor } from '../../harness/fusion.js';

/**
 * The AISHub capture (85k lines, 3 minutes of live traffic) through the real `aisflow ingest`
 * into JetStream and through fusion; the stores must end holding exactly what a simple reference
 * computation over the same records says. The reference reads the records back from the stream
 * (what ingest decided is not under test here) and applies the rules in a few lines of its own.
 * Plausibility is switched off for this run: real captures contain GPS glitches, and the rule
 * has its own tests; everything else runs as configured.
 */
// The bundled copy of the shared AISHub capture (same bytes; see pipeline/data/ais/README.md).
const capture = fileURLToPath(new URL('../../../pipeline/data/ais/aishub-3min-sample.nmea', import.meta.url));
const PARTITIONS = 8;
const positionTypes = new Set([1, 2, 3, 9, 18, 19, 27]);

function referenceOf(records: AisRecordV1[]) {
  const latest = new Map<number, { ts: number; positions: Set<string> }>();
  const keys = new Set<string>();
  for (const r of records) {
    const m = r.msg as Record<string, unknown>;
    const lat = m.lat as number | null | undefined;
    const lon = m.lon as number | null | undefined;
    if (!positionTypes.has(r.type) || typeof lat !== 'number' || typeof lon !== 'number' || Math.abs(lat) > 90 || Math.abs(lon) > 180) continue;
    // report time: the last time at or before rx (+5 s) whose UTC second is the message's
    const s = m.second;
    let ts = Math.floor(r.rx / 1000) * 1000;
    if (typeof s === 'number' && Number.isInteger(s) && s >= 0 && s <= 59) {
      ts = Math.floor(r.rx / 60_000) * 60_000 + s * 1000;
      if (ts > r.rx + 5_000) ts -= 60_000;
    }
    keys.add(`${r.mmsi}:${ts / 1000}:${r.key}`);
    const cur = latest.get(r.mmsi);
    const pos = `${lat},${lon}`;
    if (!cur || ts > cur.ts) latest.set(r.mmsi, { ts, positions: new Set([pos]) });
    else if (ts === cur.ts) cur.positions.add(pos);
  }
  return { latest, historyRows: keys.size };
}

describe('AISHub capture through ingest and fusion', () => {
  let nc: NatsConnection;
  let stores: OpenedStores;
  const id = uniqueId('');
  const names: NatsNames = { stream: `FTCAP_${id}`, dlqStream: `FTCAP_${id}_DLQ`, prefix: `ftcap${id}` };

  beforeAll(async () => {
    nc = await connect({ servers: natsUrl });
    stores = await openFusionStores({ keyPrefix: `ftcap:${id}`, schemaTag: `ftcap_${id}` });
  });
  afterAll(async () => {
    await stores?.cleanup();
    const jsm = await jetstreamManager(nc);
    for (const s of [names.stream, names.dlqStream, `KV_${names.stream}_fusion_members`]) await jsm.streams.delete(s).catch(() => undefined);
    await nc.drain();
  });

  it('ends with the vessels, latest fixes and history rows the reference computes', async () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AISFLOW_')));
    const ingest = spawnSync(process.execPath, ['bin/aisflow.mjs', 'ingest', '--file', capture, '--source-id', 'aishub'], {
      env: {
        ...env,
        AISFLOW_NATS_URL: natsUrl,
        AISFLOW_NATS_STREAM: names.stream,
        AISFLOW_NATS_DLQ_STREAM: names.dlqStream,
        AISFLOW_NATS_SUBJECT_PREFIX: names.prefix,
        AISFLOW_PARTITIONS: String(PARTITIONS),
        AISFLOW_HTTP_PORT: '0',
        AISFLOW_LOG_LEVEL: 'warn',
      },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(ingest.status, ingest.stderr.slice(-2000)).toBe(0);

    // the reference, from the records as published
    const js = jetstream(nc);
    const info = await (await jetstreamManager(nc)).streams.info(names.stream);
    const ordered = await js.consumers.get(names.stream, { deliver_policy: DeliverPolicy.All });
    const records: AisRecordV1[] = [];
    let messages = 0;
    for await (const m of await ordered.consume()) {
      records.push(...(m.json() as AisBatchV1).records);
      if (++messages >= info.state.messages) break;
    }
    const ref = referenceOf(records);
    expect(ref.latest.size).toBeGreaterThan(500);

    const { metrics } = testMetrics();
    const worker = await FusionWorker.start({
      nc, names, partitions: PARTITIONS, memberId: 'capture', heartbeatMs: 500, memberTtlMs: 3_000, maxAckPending: 256, ackWaitMs: 30_000,
      batchMaxMessages: 32, retryDelayMs: 500, maxDeliver: 5, lruSize: 100_000,
      decide: { ...defaultDecideSettings, maxSpeedKn: 1e9, maxAircraftSpeedKn: 1e9 }, trust: defaultTrustSettings,
      breakerFailures: 5, breakerHalfOpenMs: 1_000, sourcesIntervalMs: 1_000,
      live: stores.live, history: stores.history, metrics, logger: quietLogger(), clock: systemClock,
    });
    try {
      const decided = async () => (await metrics.records.get()).values.reduce((a, v) => a + v.value, 0);
      expect(await waitFor(async () => (await decided()) >= records.length, 90_000, 250)).toBe(true);
      console.log(JSON.stringify((await metrics.records.get()).values.map((v) => [v.labels.outcome, v.value])));
      expect(await stores.historyRowCount()).toBe(ref.historyRows);
      const states = await stores.readAll([...ref.latest.keys()], PARTITIONS);
      expect(states.size).toBe(ref.latest.size);
      // the vessels table leaves out MMSI 0 and ten-digit MMSIs (not a vessel identity); Redis and the history keep them
      expect(await stores.vesselCount()).toBe([...ref.latest.keys()].filter(isValidMmsi).length);
      const wrong: string[] = [];
      for (const [mmsi, want] of ref.latest) {
        const got = states.get(mmsi);
        if (!got || got.ts !== want.ts || !want.positions.has(`${got.lat},${got.lon}`)) wrong.push(`${mmsi}: want ${want.ts} ${[...want.positions]} got ${got?.ts} ${got?.lat},${got?.lon}`);
      }
      expect(wrong).toEqual([]);
    } finally {
      await worker.stop();
    }
  });
});
