import net from 'node:net';
import type { TcpSourceConfig } from '../../config/ingest.js';
import { ReconnectingClient, type Connection } from './reconnecting.js';
import { splitHostPort, type Source, type SourceContext } from './types.js';

/**
 * `tcp`: connects to an NMEA server (AIS-catcher, rtl-ais, a relay) and reads lines, with
 * reconnect, circuit breaker and idle-timeout detection. Partial lines across packets are the
 * framer's job; a partial line left when the connection drops is still handed on (and rejected
 * by the decoder if truncated), never silently lost.
 */
export function createTcpSource(cfg: TcpSourceConfig, ctx: SourceContext): Source {
  const { host, port } = splitHostPort(cfg.address);
  const client = new ReconnectingClient({
    id: cfg.id,
    ctx,
    reconnect: cfg.reconnect,
    breaker: cfg.breaker,
    connect: () =>
      new Promise<Connection>((resolve, reject) => {
        const socket = net.connect({ host, port, noDelay: true });
        const connectTimer = setTimeout(() => socket.destroy(new Error(`connect timeout after ${cfg.connectTimeoutMs} ms`)), cfg.connectTimeoutMs);
        socket.once('error', (err) => {
          clearTimeout(connectTimer);
          reject(err);
        });
        socket.once('connect', () => {
          clearTimeout(connectTimer);
          socket.removeAllListeners('error');
          const handler = ctx.newHandler();
          const expiry = setInterval(() => handler.expire(), 1000);
          let failure: Error | undefined;
          socket.on('error', (err) => (failure = err));
          socket.on('data', (chunk: Buffer) => handler.chunk(chunk));
          socket.on('timeout', () => socket.destroy(new Error(`no data for ${cfg.idleTimeoutMs} ms (idle timeout)`)));
          socket.setTimeout(cfg.idleTimeoutMs);
          const closed = new Promise<Error | undefined>((done) => {
            socket.once('close', () => {
              clearInterval(expiry);
              handler.end();
              done(failure);
            });
          });
          resolve({
            closed,
            // While paused the feed is silent because of us: no idle timeout then, or a long
            // NATS outage would tear down the connection and lose what the kernel buffered.
            pause: () => {
              socket.pause();
              socket.setTimeout(0);
            },
            resume: () => {
              socket.setTimeout(cfg.idleTimeoutMs);
              socket.resume();
            },
            close: () => socket.end(() => socket.destroy()),
          });
        });
      }),
  });
  return {
    id: cfg.id,
    start: () => client.start(),
    pause: () => client.pause(),
    resume: () => client.resume(),
    stop: () => client.stop(),
    finished: new Promise<void>(() => {}),
  };
}
