import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { Registry } from 'prom-client';
import { fnv1a64 } from '../../pipeline/src/ingest/record.js';
import { partitionOf } from '../../pipeline/src/shared/partition.js';
import type { AisBatchV1, AisRecordV1 } from '../../pipeline/src/shared/ais-record.js';
import { subjects, type NatsNames } from '../../pipeline/src/shared/subjects.js';
import { createLogger } from '../../pipeline/src/telemetry/logger.js';
import { createFusionMetrics } from '../../pipeline/src/telemetry/metrics/fusion.js';

/** Shared set-up for fusion integration tests and the fusion bench (real NATS, unique names). */
export const natsUrl = process.env.AISFLOW_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

export function uniqueId(prefix: string): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

export interface FusionTestNats {
  nc: NatsConnection;
  jsm: JetStreamManager;
  names: NatsNames;
  cleanup(): Promise<void>;
}

/** A connection plus a private stream pair (AIS + DLQ) and subject prefix, removed by cleanup(). */
export async function setupNats(tag: string): Promise<FusionTestNats> {
  const id = uniqueId(tag);
  const names: NatsNames = { stream: `FT_${id}`, dlqStream: `FT_${id}_DLQ`, prefix: `ft${id}` };
  const nc = await connect({ servers: natsUrl, name: `fusion-test-${id}` });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: names.stream, subjects: [subjects.allPartitions(names)], storage: StorageType.Memory, retention: RetentionPolicy.Limits, duplicate_window: nanos(60_000) });
  await jsm.streams.add({ name: names.dlqStream, subjects: [subjects.allDlq(names)], storage: StorageType.Memory, duplicate_window: nanos(60_000) });
  return {
    nc,
    jsm,
    names,
    async cleanup() {
      for (const s of [names.stream, names.dlqStream, `KV_${names.stream}_fusion_members`]) await jsm.streams.delete(s).catch(() => undefined);
      await nc.drain().catch(() => undefined);
    },
  };
}

export function quietLogger() {
  return createLogger({ name: 'fusion-test', level: process.env.AISFLOW_TEST_LOG_LEVEL ?? 'silent' });
}

export function testMetrics() {
  const registry = new Registry();
  return { registry, metrics: createFusionMetrics(registry) };
}

/** Publishes records grouped by partition as AisBatchV1 messages (what ingest does). */
export async function publishRecords(nc: NatsConnection, names: NatsNames, partitions: number, records: AisRecordV1[], perMessage = 50): Promise<number> {
  const js = jetstream(nc);
  const byPartition = new Map<number, AisRecordV1[]>();
  for (const r of records) {
    const p = partitionOf(r.mmsi, partitions);
    let list = byPartition.get(p);
    if (!list) byPartition.set(p, (list = []));
    list.push(r);
  }
  const acks: Promise<unknown>[] = [];
  let messages = 0;
  for (const [partition, list] of byPartition) {
    for (let i = 0; i < list.length; i += perMessage) {
      const batch: AisBatchV1 = { v: 1, partition, records: list.slice(i, i + perMessage) };
      acks.push(js.publish(subjects.partition(names, partition), JSON.stringify(batch), { timeout: 60_000 }));
      messages++;
      if (acks.length >= 256) await Promise.all(acks.splice(0));
    }
  }
  await Promise.all(acks);
  return messages;
}

/**
 * A position report record as ingest would produce it. `report` names the radio report: records
 * with the same name are the same report (as heard by several receivers); the record key is its
 * 64-bit hash, as ingest's is of the payload.
 */
export function positionRecord(mmsi: number, rx: number, lat: number, lon: number, src = 'rx-a', report?: string, second: number | null = null): AisRecordV1 {
  return {
    v: 1,
    key: fnv1a64(report ?? `${mmsi}-${rx}-${lat}-${lon}`),
    src,
    rx,
    mmsi,
    type: 1,
    msg: { type: 1, repeat: 0, mmsi, lat, lon, speed: 12.3, course: 45, heading: 44, status: 0, second },
  };
}

/** Polls until `check` returns true or the bounded time runs out; returns the last result. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 15_000, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A reproducible fleet: `vessels` vessels × `reports` reports each, every report heard by each source (same key). */
export function fleetRecords(options: { vessels: number; reports: number; sources: string[]; start: number; baseMmsi?: number; stepMs?: number }): AisRecordV1[] {
  const out: AisRecordV1[] = [];
  const step = options.stepMs ?? 10_000;
  for (let k = 0; k < options.reports; k++) {
    for (let v = 0; v < options.vessels; v++) {
      const mmsi = (options.baseMmsi ?? 211_000_000) + v;
      const rx = options.start + k * step + (v % 7);
      const lat = 50 + (v % 100) * 0.1 + k * 0.001;
      const lon = 3 + Math.floor(v / 100) * 0.1;
      const key = `f${mmsi}-${k}`;
      // the transmitter's UTC second, as real reports carry: receivers hearing it a little later
      // (even across a second boundary) still agree on the report time
      const second = Math.floor(rx / 1000) % 60;
      options.sources.forEach((src, i) => out.push(positionRecord(mmsi, rx + i * 150, lat, lon, src, key, second)));
    }
  }
  return out;
}

/** What a fleet should end as: latest fix per vessel and the number of distinct reports. */
export function fleetReference(records: AisRecordV1[]) {
  const latest = new Map<number, { ts: number; lat: number; lon: number }>();
  const keys = new Set<string>();
  for (const r of records) {
    // report time: the last time at or before rx (+5 s) whose UTC second is the report's
    const second = r.msg.second;
    let ts = Math.floor(r.rx / 1000) * 1000;
    if (typeof second === 'number') {
      ts = Math.floor(r.rx / 60_000) * 60_000 + second * 1000;
      if (ts > r.rx + 5_000) ts -= 60_000;
    }
    keys.add(`${r.mmsi}:${ts}:${r.key}`);
    const cur = latest.get(r.mmsi);
    if (!cur || ts > cur.ts) latest.set(r.mmsi, { ts, lat: r.msg.lat as number, lon: r.msg.lon as number });
  }
  return { latest, historyRows: keys.size, vessels: latest.size };
}

/**
 * Five vessels (mmsi base..base+4) reported every 10 s for 20 reports by source 'honest' in the
 * North Sea, each copied a second later by source 'spoofer' claiming the vessel is off New York:
 * the demotion scenario.
 */
export function spoofedFleet(baseMmsi: number, start: number): AisRecordV1[] {
  const records: AisRecordV1[] = [];
  for (let k = 0; k < 20; k++) {
    for (let v = 0; v < 5; v++) {
      const mmsi = baseMmsi + v;
      records.push(positionRecord(mmsi, start + k * 10_000, 54 + v * 0.1 + k * 0.0005, 10, 'honest', `h${mmsi}-${k}`));
      records.push(positionRecord(mmsi, start + k * 10_000 + 1_000, 40.5, -73.9 - k * 0.01, 'spoofer', `s${mmsi}-${k}`));
    }
  }
  return records;
}
