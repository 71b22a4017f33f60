import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { NatsConnection } from '@nats-io/transport-node';
import { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDecoder } from '../../../pipeline/src/ais/decoder.js';
import { parseSourcesDocument } from '../../../pipeline/src/config/ingest.js';
import { toRecord } from '../../../pipeline/src/ingest/record.js';
import { IngestService } from '../../../pipeline/src/ingest/service.js';
import { systemClock } from '../../../pipeline/src/shared/clock.js';
import type { StoredDlqEntry } from '../../../pipeline/src/dlq/entries.js';
import { batchesOf, connectNats, deleteStreams, freePort, quietLogger, readStream, testMetrics, testSettings, uniqueNames, waitFor } from '../../harness/nats.js';

/** Single-sentence reports of distinct vessels, and one two-sentence type 5, from the bundled capture. */
function sample() {
  const decoder = createDecoder({ clock: systemClock });
  const lines = readFileSync('pipeline/data/ais/aishub-3min-sample.nmea', 'latin1').split('\n').map((l) => l.trim());
  const singles: string[] = [];
  const seen = new Set<number>();
  for (const line of lines) {
    if (!line.startsWith('!AIVDM,1,1,')) continue;
    const o = decoder.decode(line);
    if (o.kind === 'message' && !seen.has(o.message.mmsi)) {
      seen.add(o.message.mmsi);
      singles.push(line);
    }
    if (singles.length === 9) break;
  }
  const i = lines.findIndex((l, k) => l.startsWith('!AIVDM,2,1,') && lines[k + 1]?.startsWith('!AIVDM,2,2,'));
  const pair = [lines[i]!, lines[i + 1]!];
  const keyOf = (ls: string[]) => {
    const d = createDecoder({ clock: systemClock });
    const outs = ls.map((l) => d.decode(l));
    const m = outs.find((o) => o.kind === 'message');
    return m && m.kind === 'message' ? toRecord(m.message, m.meta).key : 'none';
  };
  return { singles, pair, keyOf };
}

describe('ingest: tcp-listen, udp and websocket sources', () => {
  const names = uniqueNames('src');
  const { singles, pair, keyOf } = sample();
  let nc: NatsConnection;
  let service: IngestService;
  let wss: WebSocketServer;
  const seenAuth: string[] = [];
  const ports = { listen: 0, udp: 0, ws: 0 };

  beforeAll(async () => {
    nc = await connectNats();
    ports.listen = await freePort();
    ports.udp = await freePort();
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    ports.ws = (wss.address() as net.AddressInfo).port;
    wss.on('connection', (ws, req) => {
      seenAuth.push(String(req.headers.authorization));
      // JSON frames: a line, a list with a two-sentence message, then one that is not JSON.
      ws.send(JSON.stringify({ nmea: singles[6] }));
      ws.send(JSON.stringify({ nmea: [pair[0], pair[1]] }));
      ws.send('{not json');
      ws.send(JSON.stringify({ nmea: singles[7] }));
    });
    const { sources } = parseSourcesDocument(
      JSON.stringify({
        sources: [
          { id: 'pushers', kind: 'tcp-listen', address: `127.0.0.1:${ports.listen}` },
          { id: 'radio', kind: 'udp', address: `127.0.0.1:${ports.udp}` },
          { id: 'cloud', kind: 'websocket', address: `ws://127.0.0.1:${ports.ws}/feed`, format: 'json', apiKeyEnv: 'AISFLOW_SECRET_CLOUD' },
        ],
      }),
    );
    service = new IngestService({
      nc,
      settings: testSettings(names),
      sources,
      secrets: { AISFLOW_SECRET_CLOUD: 's3cret' },
      metrics: testMetrics().metrics,
      logger: quietLogger(),
      clock: systemClock,
      runId: 'sources-test',
    });
    await service.start();
  });

  afterAll(async () => {
    await service.stop(10_000);
    await new Promise((r) => wss.close(r));
    await deleteStreams(nc, names);
    await nc.close();
  });

  it('receives from pushing receivers, datagrams and a WebSocket feed with its API key', async () => {
    // tcp-listen: two receivers push at once, one with CRLF and a line split across writes.
    const a = net.connect({ port: ports.listen, host: '127.0.0.1' });
    const b = net.connect({ port: ports.listen, host: '127.0.0.1' });
    await Promise.all([a, b].map((s) => new Promise((r) => s.once('connect', r))));
    a.write(`${singles[0]}\r\n${singles[1]!.slice(0, 20)}`);
    b.write(`${singles[2]}\n`);
    a.end(`${singles[1]!.slice(20)}\r\n`);
    b.end();

    // udp: one datagram with two sentences (no final newline), one with a single sentence.
    const u = dgram.createSocket('udp4');
    await new Promise<void>((r) => u.send(`${singles[3]}\r\n${singles[4]}`, ports.udp, '127.0.0.1', () => r()));
    await new Promise<void>((r) => u.send(`${singles[5]}\r\n`, ports.udp, '127.0.0.1', () => r()));
    u.close();

    const expectedKeys = [...singles.slice(0, 8).map((l) => keyOf([l])), keyOf(pair)].sort();
    let keys: string[] = [];
    const arrived = await waitFor(async () => {
      keys = batchesOf(await readStream(nc, names.stream))
        .flatMap((x) => x.records)
        .map((r) => r.key)
        .sort();
      return keys.length >= expectedKeys.length;
    }, 20_000, 200);
    expect(arrived).toBe(true);
    expect(keys).toEqual(expectedKeys);
    expect(seenAuth).toContain('Bearer s3cret');

    const records = batchesOf(await readStream(nc, names.stream)).flatMap((x) => x.records);
    expect(new Set(records.map((r) => r.src))).toEqual(new Set(['pushers', 'radio', 'cloud']));

    const dlq = (await readStream(nc, names.dlqStream)).map((m) => JSON.parse(new TextDecoder().decode(m.data)) as StoredDlqEntry);
    expect(dlq.map((e) => [e.reason, e.source, e.raw])).toEqual([['frame_malformed', 'cloud', '{not json']]);
  });
});
