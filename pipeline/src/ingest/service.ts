import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { SourceConfig } from '../config/ingest.js';
import type { Clock } from '../shared/clock.js';
import type { NatsNames } from '../shared/subjects.js';
import type { Logger } from '../telemetry/logger.js';
import type { IngestMetrics } from '../telemetry/metrics/ingest.js';
import { dlqStreamConfig, type DlqLimits } from '../dlq/stream.js';
import { LineHandler } from './line-handler.js';
import { BatchPublisher } from './publisher.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { SourceDecoder } from './source-decoder.js';
import { createFileSource } from './sources/file.js';
import { createTcpListenSource } from './sources/tcp-listen.js';
import { createTcpSource } from './sources/tcp.js';
import type { Source, SourceContext } from './sources/types.js';
import { createUdpSource } from './sources/udp.js';
import { createWebSocketSource } from './sources/websocket.js';
import { checkStreamPartitions } from '../shared/stream-partitions.js';
import { ensureStream, recordStreamConfig, type StreamLimits } from './streams.js';

/** Everything `aisflow ingest` is configured with, in plain names (bin/ingest.ts maps the env onto it). */
export interface IngestSettings {
  names: NatsNames;
  partitions: number;
  stream: StreamLimits;
  dlq: DlqLimits;
  batch: { maxRecords: number; maxBytes: number; lingerMs: number };
  publish: { maxInflight: number; timeoutMs: number };
  maxPendingRecords: number;
  maxLineBytes: number;
  fragmentTimeoutMs: number;
  /**
   * messages (read chunks, lines) a source's decode worker may hold before the source pauses
   * @default 8
   */
  decodeMaxInflight?: number;
}

export interface IngestServiceDeps {
  nc: NatsConnection;
  settings: IngestSettings;
  sources: readonly SourceConfig[];
  /** values of the secret env variables named by sources (`apiKeyEnv`) */
  secrets: Readonly<Record<string, string | undefined>>;
  metrics: IngestMetrics;
  logger: Logger;
  clock: Clock;
  /** unique per process run (batch ids) */
  runId: string;
  /** skip stream creation (tests that set streams up themselves) @default false */
  skipStreamSetup?: boolean;
}

/**
 * The ingest process minus its shell: ensures the streams, wires sources → line handlers →
 * batch publisher (+ DLQ), applies backpressure, and drains on stop. Contract of `stop()`:
 * sources stop reading, every line already read is decoded, every record and dead letter is
 * published and acknowledged; it resolves with the number of records that could not be (0 on
 * success) once `drainTimeoutMs` has passed.
 */
export class IngestService {
  readonly publisher: BatchPublisher;
  private readonly sources: Source[] = [];
  private readonly log: RateLimitedLog;
  private started = false;
  private readonly unpausable = new Set<string>();
  private readonly decoders = new Map<string, SourceDecoder>();
  /** the publisher is behind: every source pauses */
  private publisherBehind = false;
  /** sources whose decode worker is behind */
  private readonly decoderBehind = new Set<string>();
  /** sources paused now (for either reason) */
  private readonly pausedNow = new Set<string>();

  constructor(private readonly d: IngestServiceDeps) {
    const s = d.settings;
    this.log = new RateLimitedLog(d.logger);
    const serverMax = d.nc.info?.max_payload ?? 1_048_576;
    this.publisher = new BatchPublisher({
      js: jetstream(d.nc),
      names: s.names,
      partitions: s.partitions,
      maxRecords: s.batch.maxRecords,
      // Leave room for headers: a batch must always fit the server's max_payload.
      maxBytes: Math.min(s.batch.maxBytes, serverMax - 4096),
      lingerMs: s.batch.lingerMs,
      maxInflight: s.publish.maxInflight,
      timeoutMs: s.publish.timeoutMs,
      maxPendingRecords: s.maxPendingRecords,
      runId: d.runId,
      metrics: d.metrics,
      logger: d.logger,
      onBackpressure: (paused) => this.onBackpressure(paused),
    });
  }

  /**
   * Creates or checks the streams (may throw StreamConflictError, or PartitionsMismatchError for
   * a record stream keyed by another partition count), then starts every enabled source.
   */
  async start(): Promise<void> {
    const s = this.d.settings;
    if (!this.d.skipStreamSetup) {
      const jsm = await jetstreamManager(this.d.nc);
      await checkStreamPartitions(jsm, s.names, s.partitions);
      for (const desired of [recordStreamConfig(s.names, s.stream, s.partitions), dlqStreamConfig(s.names, s.dlq)]) {
        const result = await ensureStream(jsm, desired);
        this.d.logger.info({ stream: desired.name, result }, 'stream ready');
      }
    }
    for (const cfg of this.d.sources) {
      if (!cfg.enabled) continue;
      this.decoders.set(
        cfg.id,
        new SourceDecoder({
          sourceId: cfg.id,
          maxInflight: s.decodeMaxInflight ?? 8,
          onBackpressure: (behind) => {
            if (behind) this.decoderBehind.add(cfg.id);
            else this.decoderBehind.delete(cfg.id);
            this.applyPause();
          },
          logger: this.d.logger,
        }),
      );
      const source = this.createSource(cfg);
      if (cfg.kind === 'udp') this.unpausable.add(cfg.id);
      this.sources.push(source);
      this.d.metrics.sourcePaused.set({ source: cfg.id }, 0);
    }
    for (const source of this.sources) source.start();
    this.started = true;
  }

  get sourceList(): readonly Source[] {
    return this.sources;
  }

  get isStarted(): boolean {
    return this.started;
  }

  /** Resolves when every started source has finished (only finite sources ever do). */
  allFinished(): Promise<void> {
    return Promise.all(this.sources.map((s) => s.finished)).then(() => undefined);
  }

  async stop(drainTimeoutMs: number): Promise<number> {
    await Promise.all(this.sources.map((s) => s.stop()));
    // Everything read is decoded and handed to the publisher before the publisher drains; the
    // drain timeout bounds both waits together.
    const deadline = Date.now() + drainTimeoutMs;
    const decoders = [...this.decoders.values()];
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(decoders.map((d) => d.idle())), new Promise<void>((resolve) => (timer = setTimeout(resolve, drainTimeoutMs)))]);
    clearTimeout(timer);
    const left = await this.publisher.drain(Math.max(0, deadline - Date.now()));
    this.publisher.close();
    await Promise.all(decoders.map((d) => d.close()));
    return left;
  }

  private onBackpressure(paused: boolean): void {
    this.d.logger.info({ paused, pending: this.publisher.pending }, paused ? 'publishing is behind: pausing sources' : 'publishing caught up: resuming sources');
    this.publisherBehind = paused;
    this.applyPause();
  }

  /** A source reads while neither the publisher nor its own decode worker is behind. */
  private applyPause(): void {
    for (const source of this.sources) {
      const pause = this.publisherBehind || this.decoderBehind.has(source.id);
      if (pause === this.pausedNow.has(source.id)) continue;
      if (pause) {
        this.pausedNow.add(source.id);
        source.pause();
      } else {
        this.pausedNow.delete(source.id);
        source.resume();
      }
      // UDP cannot be paused (udp.ts): its gauge stays 0 rather than claim a pause that is not happening.
      if (!this.unpausable.has(source.id)) this.d.metrics.sourcePaused.set({ source: source.id }, pause ? 1 : 0);
    }
  }

  private context(sourceId: string): SourceContext {
    const s = this.d.settings;
    return {
      metrics: this.d.metrics,
      logger: this.d.logger,
      clock: this.d.clock,
      newHandler: () =>
        new LineHandler({
          sourceId,
          decoder: this.decoders.get(sourceId)!,
          settings: { sourceId, partitions: s.partitions, maxLineBytes: s.maxLineBytes, fragmentTimeoutMs: s.fragmentTimeoutMs },
          publisher: this.publisher,
          names: s.names,
          metrics: this.d.metrics,
          clock: this.d.clock,
          log: this.log,
        }),
    };
  }

  private createSource(cfg: SourceConfig): Source {
    const ctx = this.context(cfg.id);
    switch (cfg.kind) {
      case 'tcp':
        return createTcpSource(cfg, ctx);
      case 'tcp-listen':
        return createTcpListenSource(cfg, ctx);
      case 'udp':
        return createUdpSource(cfg, ctx);
      case 'file':
        return createFileSource(cfg, ctx);
      case 'websocket':
        return createWebSocketSource(cfg, ctx, cfg.apiKeyEnv ? this.d.secrets[cfg.apiKeyEnv] : undefined);
    }
  }
}
