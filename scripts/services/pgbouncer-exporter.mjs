#!/usr/bin/env node
/* global process, console */
// A small PgBouncer exporter: reads PgBouncer's admin console (SHOW POOLS, SHOW STATS) on each
// scrape and serves the metric names of the prometheus-community pgbouncer_exporter, so the
// Storage dashboard works unchanged against that exporter in a cluster. Written because the
// Debian package prometheus-pgbouncer-exporter (1.7) crashes on start against PgBouncer >= 1.8
// (it reads the `total_requests` column, which PgBouncer renamed long ago).
//   node scripts/services/pgbouncer-exporter.mjs --listen 127.0.0.1:9393 --pgbouncer postgresql://postgres@127.0.0.1:6433/pgbouncer
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Registry, Gauge, Counter, collectDefaultMetrics } from 'prom-client';

const { values } = parseArgs({
  options: {
    listen: { type: 'string', default: '127.0.0.1:9393' },
    pgbouncer: { type: 'string', default: 'postgresql://postgres@127.0.0.1:6433/pgbouncer' },
  },
});
const [host, portText] = values.listen.split(':');
const port = Number(portText);
if (!host || !Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(`pgbouncer-exporter: --listen must be host:port, got ${values.listen}`);
  process.exit(2);
}

const registry = new Registry();
collectDefaultMetrics({ register: registry });
const pools = (name, help) => new Gauge({ name, help, labelNames: ['database', 'user'], registers: [registry] });
const stats = (name, help) => new Counter({ name, help, labelNames: ['database'], registers: [registry] });
const up = new Gauge({ name: 'pgbouncer_up', help: '1 when the last scrape of the admin console succeeded', registers: [registry] });
const g = {
  cl_active: pools('pgbouncer_pools_client_active_connections', 'Client connections linked to a server connection and able to process queries'),
  cl_waiting: pools('pgbouncer_pools_client_waiting_connections', 'Client connections waiting on a server connection'),
  sv_active: pools('pgbouncer_pools_server_active_connections', 'Server connections linked to a client connection'),
  sv_idle: pools('pgbouncer_pools_server_idle_connections', 'Server connections idle and ready for a client query'),
  sv_used: pools('pgbouncer_pools_server_used_connections', 'Server connections idle more than server_check_delay'),
  maxwait: pools('pgbouncer_pools_client_maxwait_seconds', 'Age of the oldest unserved client connection'),
};
const c = {
  total_query_count: stats('pgbouncer_stats_queries_pooled_total', 'SQL queries pooled'),
  total_xact_count: stats('pgbouncer_stats_sql_transactions_pooled_total', 'SQL transactions pooled'),
  total_received: stats('pgbouncer_stats_received_bytes_total', 'Bytes received from clients'),
  total_sent: stats('pgbouncer_stats_sent_bytes_total', 'Bytes sent to clients'),
  total_query_time: stats('pgbouncer_stats_queries_duration_seconds_total', 'Time spent by PgBouncer actively querying PostgreSQL'),
};
const MICROS = new Set(['total_query_time']);

async function refresh() {
  const client = new pg.Client({ connectionString: values.pgbouncer, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    const poolRows = (await client.query('SHOW POOLS')).rows;
    const statRows = (await client.query('SHOW STATS')).rows;
    for (const gauge of Object.values(g)) gauge.reset();
    for (const r of poolRows) {
      const labels = { database: r.database, user: r.user };
      for (const [col, gauge] of Object.entries(g)) {
        const v = col === 'maxwait' ? Number(r.maxwait) + Number(r.maxwait_us ?? 0) / 1e6 : Number(r[col] ?? 0);
        gauge.set(labels, v);
      }
    }
    // PgBouncer's totals are cumulative; a Counter is reset and re-incremented to the total so
    // the exposition matches it exactly.
    for (const counter of Object.values(c)) counter.reset();
    for (const r of statRows) {
      for (const [col, counter] of Object.entries(c)) {
        const v = Number(r[col] ?? 0);
        counter.inc({ database: r.database }, MICROS.has(col) ? v / 1e6 : v);
      }
    }
    up.set(1);
  } catch (err) {
    up.set(0);
    console.error(`pgbouncer-exporter: scrape failed: ${err.message}`);
  } finally {
    await client.end().catch(() => {});
  }
}

const server = createServer(async (req, res) => {
  if (req.url !== '/metrics') {
    res.writeHead(req.url === '/' ? 200 : 404, { 'content-type': 'text/plain' }).end('pgbouncer exporter: /metrics\n');
    return;
  }
  await refresh();
  res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
});
server.listen(port, host, () => console.log(`pgbouncer-exporter: listening on ${host}:${port}, reading ${values.pgbouncer.replace(/\/\/[^@]*@/, '//')}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
