import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Registry } from 'prom-client';
import type { AisBatchV1 } from '../../pipeline/src/shared/ais-record.js';
import type { NatsNames } from '../../pipeline/src/shared/subjects.js';
import { createLogger } from '../../pipeline/src/telemetry/logger.js';
import { createIngestMetrics } from '../../pipeline/src/telemetry/metrics/ingest.js';
import type { IngestSettings } from '../../pipeline/src/ingest/service.js';

/**
 * Real-NATS helpers for ingest and DLQ tests (in the spirit of nats.js `nst`): unique names per
 * test, a private nats-server for tests that must stop and restart it, and readers that return
 * what really landed in a stream.
 */
export const natsUrl = process.env.AISFLOW_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/** Prefix of every stream these tests create; the global setup removes leftovers of crashed runs. */
export const TEST_STREAM_PREFIX = 'TI_';

export function uniqueNames(tag: string): NatsNames {
  const id = `${tag}${randomBytes(4).toString('hex')}`;
  return { stream: `${TEST_STREAM_PREFIX}${id}`, dlqStream: `${TEST_STREAM_PREFIX}${id}_DLQ`, prefix: `ti${id}` };
}

export function testSettings(names: NatsNames, overrides: Partial<IngestSettings> = {}): IngestSettings {
  return {
    names,
    partitions: 8,
    stream: { maxAgeS: 3600, maxBytes: 256 * 1024 * 1024, duplicateWindowS: 120, replicas: 1 },
    dlq: { maxAgeS: 3600, maxBytes: 64 * 1024 * 1024, replicas: 1 },
    batch: { maxRecords: 500, maxBytes: 262_144, lingerMs: 5 },
    publish: { maxInflight: 32, timeoutMs: 2000 },
    maxPendingRecords: 20_000,
    maxLineBytes: 4096,
    fragmentTimeoutMs: 5000,
    ...overrides,
  };
}

export function testMetrics() {
  const registry = new Registry();
  return { registry, metrics: createIngestMetrics(registry) };
}

export function quietLogger() {
  return createLogger({ name: 'ingest-test', level: process.env.AISFLOW_TEST_LOG_LEVEL ?? 'silent' });
}

export async function connectNats(url = natsUrl): Promise<NatsConnection> {
  return connect({ servers: url, name: 'ingest-test', maxReconnectAttempts: -1, reconnectTimeWait: 250 });
}

export async function deleteStreams(nc: NatsConnection, names: NatsNames): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const s of [names.stream, names.dlqStream]) await jsm.streams.delete(s).catch(() => undefined);
}

export interface StoredMessage {
  seq: number;
  subject: string;
  msgId: string | undefined;
  data: Uint8Array;
}

/** Every message of a stream, in order (an ordered consumer; bounded by the stream's last sequence). */
export async function readStream(nc: NatsConnection, stream: string): Promise<StoredMessage[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream);
  const out: StoredMessage[] = [];
  if (info.state.messages === 0) return out;
  const consumer = await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
  const last = info.state.last_seq;
  const deadline = Date.now() + 60_000;
  while (out.length < info.state.messages && Date.now() < deadline) {
    const batch = await consumer.fetch({ max_messages: Math.min(1000, info.state.messages - out.length), expires: 2000 });
    for await (const m of batch) {
      out.push({ seq: m.seq, subject: m.subject, msgId: m.headers?.get('Nats-Msg-Id') || undefined, data: m.data });
      if (m.seq >= last) break;
    }
    if (out.length > 0 && out[out.length - 1]!.seq >= last) break;
  }
  await consumer.delete().catch(() => undefined);
  return out;
}

export function batchesOf(messages: StoredMessage[]): AisBatchV1[] {
  return messages.map((m) => JSON.parse(new TextDecoder().decode(m.data)) as AisBatchV1);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect({ port, host: '127.0.0.1' });
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A private `nats-server -js` on a free loopback port with its own store dir; stop/start keep both. */
export class PrivateNatsServer {
  private child: ChildProcess | null = null;
  readonly storeDir = mkdtempSync(join(tmpdir(), 'aisflow-nats-'));

  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateNatsServer> {
    const server = new PrivateNatsServer(await freePort());
    await server.startProcess();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async startProcess(): Promise<void> {
    if (this.child) return;
    const child = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.storeDir], { stdio: 'ignore' });
    this.child = child;
    child.once('exit', () => {
      if (this.child === child) this.child = null;
    });
    await waitForPort(this.port, 15_000);
  }

  /** SIGTERM by PID and wait for the exit (a clean shutdown flushes the store). */
  async stopProcess(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    this.child = null;
  }

  async dispose(): Promise<void> {
    await this.stopProcess();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

export async function streamManager(nc: NatsConnection): Promise<JetStreamManager> {
  return jetstreamManager(nc);
}

/** Polls until `check` returns true or the bounded time runs out; returns the last result. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 20_000, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
