import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { UdpSourceConfig } from '../../config/ingest.js';
import { splitHostPort, type Source, type SourceContext } from './types.js';

/**
 * `udp`: datagrams with one or many sentences. UDP cannot be paused (the kernel drops what does
 * not fit its buffer): backpressure is not applied here, and `pause()` is a no-op — the
 * publisher still buffers every datagram read. One handler per sender address, so multi-sentence
 * messages from two receivers never mix; the map is bounded.
 */
export function createUdpSource(cfg: UdpSourceConfig, ctx: SourceContext): Source & { readonly port: Promise<number> } {
  const { host, port } = splitHostPort(cfg.address);
  const socket = dgram.createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: true });
  const handlers = new Map<string, ReturnType<SourceContext['newHandler']>>();
  const connected = ctx.metrics.sourceConnected.labels(cfg.id);
  let resolvePort: (p: number) => void = () => {};
  const boundPort = new Promise<number>((r) => (resolvePort = r));
  let expiry: NodeJS.Timeout | null = null;

  socket.on('message', (msg, rinfo) => {
    const key = `${rinfo.address}:${rinfo.port}`;
    let handler = handlers.get(key);
    if (!handler) {
      if (handlers.size >= 1024) {
        const [oldestKey, oldest] = handlers.entries().next().value!;
        oldest.end();
        handlers.delete(oldestKey);
      }
      handler = ctx.newHandler();
      handlers.set(key, handler);
    }
    handler.datagram(msg); // a datagram holds whole lines; the last may lack its newline
  });
  socket.on('error', (err) => ctx.logger.error({ source: cfg.id, err: { message: err.message } }, 'udp socket error'));

  return {
    id: cfg.id,
    port: boundPort,
    start() {
      socket.bind(port, host, () => {
        connected.set(1);
        resolvePort(socket.address().port);
        expiry = setInterval(() => {
          for (const h of handlers.values()) h.expire();
        }, 1000);
      });
    },
    pause() {},
    resume() {},
    async stop() {
      connected.set(0);
      if (expiry) clearInterval(expiry);
      await new Promise<void>((r) => socket.close(() => r()));
      for (const h of handlers.values()) h.end();
    },
    finished: new Promise<void>(() => {}),
  };
}
