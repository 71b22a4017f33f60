import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import type { HistoryRow, HistoryStore, VesselUpsert } from '../types.js';
import { copyNumber, copyText, copyTextArray } from './copy-text.js';
import { classifyPgError } from './errors.js';
import { quoteIdent } from './sql.js';

const DAY_MS = 86_400_000;
const MAX_TS = Date.UTC(2100, 0, 1);
/** A vessel keeps at most this many sources in its row (most recent batches win on overflow). */
const MAX_VESSEL_SOURCES = 32;

export interface PostgresHistoryOptions {
  pool: pg.Pool;
  /** schema the migrations ran in */
  schema: string;
}

/**
 * Position history and the `vessels` table, written in one transaction per batch through
 * PgBouncer (transaction pooling): no named prepared statements, no session settings, a temp
 * table that lives only for the transaction (ON COMMIT DROP).
 *
 * History: COPY into the temp table, then one INSERT ... SELECT ... ON CONFLICT that credits the
 * sources of a report already stored (same report from another receiver, or a redelivery).
 * Vessels: one INSERT ... ON CONFLICT over rows sorted by mmsi, so concurrent writers take row
 * locks in the same order and cannot deadlock.
 */
export class PostgresHistoryStore implements HistoryStore {
  private readonly pool: pg.Pool;
  private readonly s: string;
  /** UTC days (epoch day numbers) known to have a partition; a cache, never authoritative. */
  private readonly knownDays = new Set<number>();

  constructor(options: PostgresHistoryOptions) {
    this.pool = options.pool;
    this.s = quoteIdent(options.schema);
  }

  async writeBatch(batch: { history: readonly HistoryRow[]; vessels: readonly VesselUpsert[] }): Promise<{ historyInserted: number; vesselsUpserted: number }> {
    const history = mergeHistoryRows(batch.history);
    const vessels = mergeVesselUpserts(batch.vessels);
    if (history.length === 0 && vessels.length === 0) return { historyInserted: 0, vesselsUpserted: 0 };
    try {
      validateHistory(history);
    } catch (err) {
      throw classifyPgError(err, 'validating history rows');
    }
    await this.ensurePartitionsFor(history.map((r) => r.ts));

    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw classifyPgError(err, 'connecting');
    }
    let broken = false;
    try {
      await client.query('BEGIN');
      let historyInserted = 0;
      if (history.length > 0) historyInserted = await this.copyHistory(client, history);
      let vesselsUpserted = 0;
      if (vessels.length > 0) vesselsUpserted = await this.upsertVessels(client, vessels);
      await client.query('COMMIT');
      return { historyInserted, vesselsUpserted };
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true; // the connection is gone; do not hand it back to the pool
      }
      throw classifyPgError(err, 'writing a history batch');
    } finally {
      client.release(broken);
    }
  }

  private async copyHistory(client: pg.PoolClient, rows: readonly HistoryRow[]): Promise<number> {
    await client.query(
      `CREATE TEMP TABLE aisflow_history_in (
         ts_ms bigint, key text, mmsi integer, lat double precision, lon double precision,
         speed real, course real, heading real, status smallint, msg_type smallint, sources text[]
       ) ON COMMIT DROP`,
    );
    const copy = client.query(copyFrom('COPY aisflow_history_in FROM STDIN'));
    await pipeline(Readable.from(historyCopyChunks(rows)), copy);
    // Two statements, both in (key, ts) order so concurrent writers of overlapping reports take
    // locks in the same order and cannot deadlock. First the new reports (rowCount = rows really
    // added; xmax tricks do not work on partitioned tables), then the credit: reports already
    // stored gain the sources they lacked; a redelivered batch changes nothing.
    const inserted = await client.query(
      `INSERT INTO ${this.s}.positions (ts, key, mmsi, lat, lon, speed, course, heading, status, msg_type, sources)
       SELECT to_timestamp(ts_ms / 1000.0), key, mmsi, lat, lon, speed, course, heading, status, msg_type, sources
       FROM aisflow_history_in ORDER BY key, ts_ms
       ON CONFLICT (key, ts) DO NOTHING`,
    );
    // Every row new: nothing to credit (the common case; skips a join against the index).
    if ((inserted.rowCount ?? 0) === rows.length) return rows.length;
    await client.query(
      `UPDATE ${this.s}.positions AS p
         SET sources = ARRAY(SELECT DISTINCT s FROM unnest(p.sources || l.sources) AS s ORDER BY s)
       FROM (SELECT q.key, q.ts, i.sources
             FROM ${this.s}.positions AS q
             JOIN aisflow_history_in AS i ON q.key = i.key AND q.ts = to_timestamp(i.ts_ms / 1000.0)
             WHERE NOT (i.sources <@ q.sources)
             ORDER BY q.key, q.ts
             FOR UPDATE OF q) AS l
       WHERE p.key = l.key AND p.ts = l.ts`,
    );
    return inserted.rowCount ?? 0;
  }

  private async upsertVessels(client: pg.PoolClient, vessels: readonly VesselUpsert[]): Promise<number> {
    const payload = vessels.map((v) => ({
      mmsi: v.mmsi,
      last_seen: v.lastSeen,
      fix_ts: v.fix?.ts ?? null,
      lat: v.fix?.lat ?? null,
      lon: v.fix?.lon ?? null,
      speed: v.fix?.speed ?? null,
      course: v.fix?.course ?? null,
      heading: v.fix?.heading ?? null,
      static: v.static ? stripNulls(v.static.fields) : null,
      static_ts: v.static?.ts ?? null,
      sources: v.sources.slice(0, MAX_VESSEL_SOURCES),
    }));
    // The newer fix wins column by column as a unit; static fields merge key by key, newer values
    // over older ones (a batch older than the stored static data only fills gaps); a report newer
    // than the last one clears deleted_at (revives a soft-deleted vessel).
    const result = await client.query(
      `INSERT INTO ${this.s}.vessels AS v (mmsi, last_seen, fix_ts, lat, lon, speed, course, heading, static, static_ts, sources)
       SELECT x.mmsi, to_timestamp(x.last_seen / 1000.0), to_timestamp(x.fix_ts / 1000.0), x.lat, x.lon, x.speed, x.course, x.heading,
              COALESCE(x.static, '{}'::jsonb), to_timestamp(x.static_ts / 1000.0), x.sources
       FROM jsonb_to_recordset($1::jsonb) AS x(mmsi integer, last_seen bigint, fix_ts bigint, lat double precision, lon double precision,
            speed real, course real, heading real, static jsonb, static_ts bigint, sources text[])
       ORDER BY x.mmsi
       ON CONFLICT (mmsi) DO UPDATE SET
         deleted_at = CASE WHEN EXCLUDED.last_seen > v.last_seen THEN NULL ELSE v.deleted_at END,
         last_seen = GREATEST(v.last_seen, EXCLUDED.last_seen),
         fix_ts  = CASE WHEN ${newerFix} THEN EXCLUDED.fix_ts  ELSE v.fix_ts  END,
         lat     = CASE WHEN ${newerFix} THEN EXCLUDED.lat     ELSE v.lat     END,
         lon     = CASE WHEN ${newerFix} THEN EXCLUDED.lon     ELSE v.lon     END,
         speed   = CASE WHEN ${newerFix} THEN EXCLUDED.speed   ELSE v.speed   END,
         course  = CASE WHEN ${newerFix} THEN EXCLUDED.course  ELSE v.course  END,
         heading = CASE WHEN ${newerFix} THEN EXCLUDED.heading ELSE v.heading END,
         static = CASE
           WHEN EXCLUDED.static_ts IS NULL THEN v.static
           WHEN v.static_ts IS NULL OR EXCLUDED.static_ts >= v.static_ts THEN v.static || EXCLUDED.static
           ELSE EXCLUDED.static || v.static END,
         static_ts = GREATEST(v.static_ts, EXCLUDED.static_ts),
         sources = (SELECT COALESCE(array_agg(s ORDER BY s), '{}') FROM (
                      SELECT DISTINCT s FROM unnest(EXCLUDED.sources || v.sources) AS s LIMIT ${MAX_VESSEL_SOURCES}) AS u),
         updated_at = now()`,
      [JSON.stringify(payload)],
    );
    return result.rowCount ?? 0;
  }

  /**
   * Makes sure a day partition exists for every report time. Replayed archives carry their
   * original times (years ago), so partitions are made on demand, not only ahead of today. Runs
   * in its own short transaction: CREATE TABLE ... PARTITION OF locks the parent, and holding
   * that lock through a whole batch would serialize every writer.
   */
  private async ensurePartitionsFor(times: readonly number[]): Promise<void> {
    const missing = new Set<number>();
    for (const ts of times) {
      const day = Math.floor(ts / DAY_MS);
      if (!this.knownDays.has(day)) missing.add(day);
    }
    if (missing.size === 0) return;
    const days = [...missing].sort((a, b) => a - b);
    // Contiguous runs become one call each, so a replay spanning weeks makes one round trip per gap.
    const runs: Array<[number, number]> = [];
    for (const day of days) {
      const last = runs.at(-1);
      if (last && day === last[1] + 1) last[1] = day;
      else runs.push([day, day]);
    }
    try {
      for (const [first, last] of runs) {
        await this.pool.query(`SELECT ${this.s}.ensure_position_partitions($1::date, $2::date)`, [isoDay(first), isoDay(last)]);
        for (let d = first; d <= last; d++) this.knownDays.add(d);
      }
    } catch (err) {
      throw classifyPgError(err, 'creating history partitions');
    }
  }

  /**
   * Partition upkeep, called periodically by fusion: partitions for yesterday .. today+aheadDays,
   * and dropping of partitions past retention (see the migration for how replayed days count).
   */
  async maintain(options: { nowMs: number; retentionDays: number; aheadDays?: number }): Promise<{ created: number; dropped: string[] }> {
    const today = Math.floor(options.nowMs / DAY_MS);
    const ahead = options.aheadDays ?? 3;
    try {
      const made = await this.pool.query<{ n: number }>(`SELECT ${this.s}.ensure_position_partitions($1::date, $2::date) AS n`, [isoDay(today - 1), isoDay(today + ahead)]);
      const cutoff = new Date(options.nowMs - options.retentionDays * DAY_MS);
      const dropped = await this.pool.query<{ day: string }>(
        `SELECT to_char(d, 'YYYY-MM-DD') AS day FROM ${this.s}.drop_expired_position_partitions($1::date, $2::timestamptz) AS d`,
        [isoDay(today - options.retentionDays), cutoff.toISOString()],
      );
      // Forget the cache: a dropped day must be re-created if a late batch still carries it.
      this.knownDays.clear();
      return { created: made.rows[0]?.n ?? 0, dropped: dropped.rows.map((r) => r.day) };
    } catch (err) {
      throw classifyPgError(err, 'maintaining history partitions');
    }
  }

  /**
   * Soft delete: vessels not heard since `cutoffMs` get `deleted_at`; their next newer report
   * clears it. Rows a writer holds right now are skipped (SKIP LOCKED) rather than waited for:
   * they are being written, so they are not silent, and waiting could deadlock with a batch.
   */
  async softDelete(cutoffMs: number): Promise<number> {
    try {
      const result = await this.pool.query(
        `UPDATE ${this.s}.vessels AS v SET deleted_at = now()
         FROM (SELECT mmsi FROM ${this.s}.vessels
               WHERE deleted_at IS NULL AND last_seen < $1::timestamptz
               ORDER BY mmsi FOR UPDATE SKIP LOCKED) AS silent
         WHERE v.mmsi = silent.mmsi`,
        [new Date(cutoffMs).toISOString()],
      );
      return result.rowCount ?? 0;
    } catch (err) {
      throw classifyPgError(err, 'soft-deleting silent vessels');
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

const newerFix = 'EXCLUDED.fix_ts IS NOT NULL AND (v.fix_ts IS NULL OR EXCLUDED.fix_ts > v.fix_ts)';

function* historyCopyChunks(rows: readonly HistoryRow[]): Generator<string> {
  // ~64 KiB chunks: fewer stream writes than one per row, bounded memory for huge batches.
  let chunk = '';
  for (const r of rows) {
    chunk += `${r.ts}\t${copyText(r.key)}\t${r.mmsi}\t${r.lat}\t${r.lon}\t${copyNumber(r.speed)}\t${copyNumber(r.course)}\t${copyNumber(r.heading)}\t${copyNumber(r.status)}\t${r.msgType}\t${copyTextArray(r.sources)}\n`;
    if (chunk.length > 65_536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}

/** One row per (key, ts), sources merged: ON CONFLICT cannot touch the same row twice in one statement. */
export function mergeHistoryRows(rows: readonly HistoryRow[]): HistoryRow[] {
  const byKey = new Map<string, HistoryRow>();
  for (const row of rows) {
    const id = `${row.key}\u0000${row.ts}`;
    const seen = byKey.get(id);
    if (!seen) byKey.set(id, { ...row, sources: [...new Set(row.sources)].sort() });
    else seen.sources = [...new Set([...seen.sources, ...row.sources])].sort();
  }
  return [...byKey.values()];
}

/** One upsert per mmsi, sorted by mmsi (lock order), each field keeping the newest value. */
export function mergeVesselUpserts(upserts: readonly VesselUpsert[]): VesselUpsert[] {
  const byMmsi = new Map<number, VesselUpsert>();
  for (const u of upserts) {
    const seen = byMmsi.get(u.mmsi);
    if (!seen) {
      // nulls stripped up front: a null means "not in this message", never "erase"
      byMmsi.set(u.mmsi, { ...u, static: u.static ? { ts: u.static.ts, fields: stripNulls(u.static.fields) } : null, sources: [...u.sources] });
      continue;
    }
    const fix = !seen.fix || (u.fix && u.fix.ts > seen.fix.ts) ? u.fix ?? seen.fix : seen.fix;
    let stat = seen.static;
    if (u.static) {
      stat = !stat
        ? { ts: u.static.ts, fields: stripNulls(u.static.fields) }
        : u.static.ts >= stat.ts
          ? { ts: u.static.ts, fields: { ...stat.fields, ...stripNulls(u.static.fields) } }
          : { ts: stat.ts, fields: { ...stripNulls(u.static.fields), ...stat.fields } };
    }
    byMmsi.set(u.mmsi, {
      mmsi: u.mmsi,
      lastSeen: Math.max(seen.lastSeen, u.lastSeen),
      fix,
      static: stat,
      sources: [...new Set([...u.sources, ...seen.sources])],
    });
  }
  return [...byMmsi.values()].sort((a, b) => a.mmsi - b.mmsi);
}

function stripNulls<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== null && v !== undefined)) as Partial<T>;
}

function isoDay(epochDay: number): string {
  return new Date(epochDay * DAY_MS).toISOString().slice(0, 10);
}

/** Values Postgres would reject mid-COPY (and fail the whole batch) are caught here, per record. */
function validateHistory(rows: readonly HistoryRow[]): void {
  for (const r of rows) {
    // Partitions are named by day: a time outside 1970..2100 is a bug upstream, not a day to create.
    if (!(r.ts >= 0 && r.ts < MAX_TS)) throw new RangeError(`history row ${r.key} (mmsi ${r.mmsi}) has a report time out of range: ${r.ts}`);
    if (!Number.isFinite(r.lat) || !Number.isFinite(r.lon) || !Number.isInteger(r.mmsi) || !Number.isInteger(r.msgType)) {
      throw new TypeError(`history row ${r.key} (mmsi ${r.mmsi}) has a non-finite position or a non-integer mmsi or type`);
    }
  }
}
