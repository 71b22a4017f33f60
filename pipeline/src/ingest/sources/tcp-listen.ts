import net from 'node:net';
import type { TcpListenSourceConfig } from '../../config/ingest.js';
import { splitHostPort, type Source, type SourceContext } from './types.js';

/**
 * `tcp-listen`: receivers push NMEA to us. Each connection gets its own line handler (its own
 * multi-sentence state); pausing stops reading every connection, so senders buffer.
 */
export function createTcpListenSource(cfg: TcpListenSourceConfig, ctx: SourceContext): Source & { readonly port: Promise<number> } {
  const { host, port } = splitHostPort(cfg.address);
  const sockets = new Set<net.Socket>();
  let paused = false;
  let resolvePort: (p: number) => void = () => {};
  const boundPort = new Promise<number>((r) => (resolvePort = r));
  const connected = ctx.metrics.sourceConnected.labels(cfg.id);

  const server = net.createServer((socket) => {
    sockets.add(socket);
    const handler = ctx.newHandler();
    const expiry = setInterval(() => handler.expire(), 1000);
    socket.on('data', (chunk: Buffer) => handler.chunk(chunk));
    socket.on('error', (err) => ctx.logger.warn({ source: cfg.id, err: { message: err.message } }, 'receiver connection error'));
    socket.on('timeout', () => socket.destroy());
    if (paused) socket.pause();
    else socket.setTimeout(cfg.idleTimeoutMs);
    socket.once('close', () => {
      clearInterval(expiry);
      handler.end();
      sockets.delete(socket);
    });
  });
  server.maxConnections = cfg.maxConnections;
  server.on('error', (err) => ctx.logger.error({ source: cfg.id, err: { message: err.message } }, 'tcp-listen server error'));

  return {
    id: cfg.id,
    port: boundPort,
    start() {
      server.listen(port, host, () => {
        connected.set(1);
        const addr = server.address();
        resolvePort(typeof addr === 'object' && addr ? addr.port : port);
        ctx.logger.info({ source: cfg.id, address: server.address() }, 'listening for receivers');
      });
    },
    // No idle timeout while paused: the silence is ours (see tcp.ts).
    pause() {
      paused = true;
      for (const s of sockets) {
        s.pause();
        s.setTimeout(0);
      }
    },
    resume() {
      paused = false;
      for (const s of sockets) {
        s.setTimeout(cfg.idleTimeoutMs);
        s.resume();
      }
    },
    async stop() {
      connected.set(0);
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) {
        s.resume();
        s.end();
      }
      // Give senders a moment to finish their half-close, then cut: stop must not hang on a slow peer.
      await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
      for (const s of sockets) s.destroy();
      await closed;
    },
    finished: new Promise<void>(() => {}),
  };
}
