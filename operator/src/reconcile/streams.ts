import { JetStreamApiError, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { ensureStream, recordStreamConfig } from '../../../pipeline/src/ingest/streams.js';
import { checkStreamPartitions } from '../../../pipeline/src/shared/stream-partitions.js';
import { streamReplicas } from '../desired/apps.js';
import type { Pipeline } from '../desired/context.js';
import { natsNames } from '../desired/endpoints.js';
import { OperatorError } from '../errors.js';

/** What lives outside Kubernetes in JetStream, seen from the operator. */
export interface StreamJanitor {
  /**
   * Re-checks the record stream against the spec (created when missing, updated when its limits
   * drifted, e.g. someone ran `nats stream edit`). Returns a one-line summary.
   */
  sync(url: string, p: Pipeline): Promise<{ ok: boolean; message: string }>;
  /** Deletes the pipeline's streams (deletionPolicy Delete). Missing streams are fine. */
  delete(url: string, p: Pipeline): Promise<string[]>;
}

const CONNECT_TIMEOUT_MS = 5_000;

/** The real JetStream implementation (the same stream settings ingest creates). */
export const natsStreamJanitor: StreamJanitor = {
  async sync(url, p) {
    const nc = await connect({ servers: url.split(','), timeout: CONNECT_TIMEOUT_MS, reconnect: false });
    try {
      const jsm = await jetstreamManager(nc);
      const names = natsNames(p);
      const s = p.spec.nats.stream;
      const nats = { stream: names.stream, dlqStream: names.dlqStream, prefix: names.subjectPrefix };
      const desired = recordStreamConfig(
        nats,
        { maxAgeS: s.maxAgeSeconds, maxBytes: s.maxBytes, duplicateWindowS: s.duplicateWindowSeconds, replicas: streamReplicas(p) },
        p.spec.fusion.partitions,
      );
      // a stream filled with another partition count is reported, never re-described
      await checkStreamPartitions(jsm, nats, p.spec.fusion.partitions);
      const result = await ensureStream(jsm, desired);
      return { ok: true, message: result === 'unchanged' ? `stream ${desired.name} in sync` : `stream ${desired.name} ${result} to match the spec` };
    } catch (err) {
      return { ok: false, message: `stream check failed: ${(err as Error).message}` };
    } finally {
      await nc.close();
    }
  },

  async delete(url, p) {
    let nc;
    try {
      nc = await connect({ servers: url.split(','), timeout: CONNECT_TIMEOUT_MS, reconnect: false });
    } catch (err) {
      throw new OperatorError('AISFLOW_ERR_OPERATOR_EXTERNAL', `cannot reach NATS to delete the streams: ${(err as Error).message}`, { cause: err });
    }
    try {
      const jsm = await jetstreamManager(nc);
      const names = natsNames(p);
      const deleted: string[] = [];
      for (const name of [names.stream, names.dlqStream]) {
        try {
          await jsm.streams.delete(name);
          deleted.push(name);
        } catch (err) {
          if (err instanceof JetStreamApiError && err.code === 10059) continue; // already gone
          throw new OperatorError('AISFLOW_ERR_OPERATOR_EXTERNAL', `deleting stream ${name} failed: ${(err as Error).message}`, { cause: err });
        }
      }
      return deleted;
    } finally {
      await nc.close();
    }
  },
};
