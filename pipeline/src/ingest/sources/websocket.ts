import WebSocket from 'ws';
import type { WebSocketSourceConfig } from '../../config/ingest.js';
import type { LineHandler } from '../line-handler.js';
import { ReconnectingClient, type Connection } from './reconnecting.js';
import type { Source, SourceContext } from './types.js';

/** Hands one WebSocket frame to the handler: NMEA text (one or more lines) or JSON with a line / lines in `field`. */
export function handleFrame(handler: LineHandler, text: string, format: 'nmea' | 'json', field: string): void {
  if (format === 'nmea') {
    for (const line of text.split('\n')) if (line.length > 0) handler.text(line);
    return;
  }
  let value: unknown;
  try {
    value = (JSON.parse(text) as Record<string, unknown> | null)?.[field];
  } catch (err) {
    handler.invalidFrame(`not JSON: ${(err as Error).message}`, text);
    return;
  }
  const lines = typeof value === 'string' ? value.split('\n') : Array.isArray(value) ? value : null;
  if (!lines || lines.some((l) => typeof l !== 'string')) {
    handler.invalidFrame(`JSON frame without a string or string array in "${field}"`, text);
    return;
  }
  for (const line of lines as string[]) if (line.length > 0) handler.text(line);
}

/**
 * `websocket`: NMEA lines or JSON messages from a WebSocket feed, with an API key taken from
 * a Secret-backed env variable (resolved in bin/ingest.ts and passed in as `apiKey`).
 */
export function createWebSocketSource(cfg: WebSocketSourceConfig, ctx: SourceContext, apiKey: string | undefined): Source {
  const client = new ReconnectingClient({
    id: cfg.id,
    ctx,
    reconnect: cfg.reconnect,
    breaker: cfg.breaker,
    connect: () =>
      new Promise<Connection>((resolve, reject) => {
        const url = new URL(cfg.address);
        const headers: Record<string, string> = {};
        if (apiKey !== undefined && cfg.apiKeyIn === 'query') url.searchParams.set(cfg.apiKeyName, apiKey);
        if (apiKey !== undefined && cfg.apiKeyIn === 'header') {
          headers[cfg.apiKeyName] = cfg.apiKeyName.toLowerCase() === 'authorization' ? `Bearer ${apiKey}` : apiKey;
        }
        const ws = new WebSocket(url, { headers, handshakeTimeout: 10_000 });
        ws.once('error', reject);
        ws.once('unexpected-response', (_req, res) => {
          reject(new Error(`WebSocket upgrade refused: HTTP ${res.statusCode}`));
          ws.terminate();
        });
        ws.once('open', () => {
          ws.removeAllListeners('error');
          const handler = ctx.newHandler();
          const expiry = setInterval(() => handler.expire(), 1000);
          let failure: Error | undefined;
          let idle: NodeJS.Timeout | null = null;
          let paused = false;
          const touch = () => {
            if (cfg.idleTimeoutMs <= 0 || paused) return;
            if (idle) clearTimeout(idle);
            idle = setTimeout(() => {
              failure = new Error(`no data for ${cfg.idleTimeoutMs} ms (idle timeout)`);
              ws.terminate();
            }, cfg.idleTimeoutMs);
          };
          touch();
          ws.on('error', (err) => (failure = err));
          ws.on('message', (data, isBinary) => {
            touch();
            const text = Buffer.isBuffer(data) ? data.toString(isBinary ? 'latin1' : 'utf8') : Buffer.concat(data as Buffer[]).toString();
            handleFrame(handler, text, cfg.format, cfg.jsonField);
          });
          if (cfg.subscribeMessage !== undefined) ws.send(cfg.subscribeMessage.replaceAll('${apiKey}', apiKey ?? ''));
          const closed = new Promise<Error | undefined>((done) =>
            ws.once('close', (code) => {
              clearInterval(expiry);
              if (idle) clearTimeout(idle);
              handler.end();
              done(failure ?? (code !== 1000 ? new Error(`closed with code ${code}`) : undefined));
            }),
          );
          resolve({
            closed,
            // No idle timeout while paused: the silence is ours (see tcp.ts).
            pause: () => {
              paused = true;
              ws.pause();
              if (idle) clearTimeout(idle);
              idle = null;
            },
            resume: () => {
              paused = false;
              touch();
              ws.resume();
            },
            close: () => ws.close(1000),
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
