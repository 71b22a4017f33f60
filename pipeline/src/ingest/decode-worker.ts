import { parentPort } from 'node:worker_threads';
import { ConnectionDecoder } from './connection-decoder.js';
import type { DecodedBatch, ToDecoder } from './decode-protocol.js';

/**
 * A source's decode worker: one ConnectionDecoder per connection, messages answered one each and
 * in order (decode-protocol.ts). The encoded records' memory is transferred, not copied.
 */
const port = parentPort;
if (!port) throw new Error('decode-worker.ts runs as a worker thread (source-decoder.ts starts it)');
const decoders = new Map<number, ConnectionDecoder>();

port.on('message', (m: ToDecoder) => {
  if (m.op === 'open') {
    decoders.set(m.h, new ConnectionDecoder(m.settings));
    return;
  }
  // `open` always comes first on the same port, so a connection is known here.
  const d = decoders.get(m.h)!;
  const out: DecodedBatch = d.handle(m);
  if (m.op === 'end') decoders.delete(m.h);
  port.postMessage(out, out.bytes ? [out.bytes.buffer as ArrayBuffer, out.segments.buffer as ArrayBuffer, out.ends.buffer as ArrayBuffer] : []);
});
