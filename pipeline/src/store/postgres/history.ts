import type pg from 'pg';
import { isValidMmsi } from '../mmsi.js';
import type { HistoryRow, HistoryStore, HistoryWriteResult, VesselUpsert } from '../types.js';
import { arrayLiteral, numberArray, quoteElement, textArray } from './array-literal.js';
import { classifyPgError } from './errors.js';
import { quoteIdent } from './sql.js';

const DAY_MS = 86_400_000;
const MAX_TS = Date.UTC(2100, 0, 1);
/** A vessel keeps at most this many sources in its row (most recent batches win on overflow). */
const MAX_VESSEL_SOURCES = 32;
/** Distinct source lists whose array-literal text is kept (receivers repeat; spoofed ids must not grow memory). */
const SOURCES_CACHE_MAX = 4_096;
/** A report id: ingest's 64-bit record key in hex (HistoryRow.report). */
const REPORT_ID = /^[0-9a-f]{16}$/;

/** One batch of history rows as array literals, one per column (array-literal.ts). */
interface HistoryColumns {
  count: number;
  ts: string;
  /** report ids as hex text; Postgres turns each into its bigint */
  reports: string;
  mmsi: string;
  lat: string;
  lon: string;
  speed: string;
  course: string;
  heading: string;
  status: string;
  msgType: string;
  /** each element the text of the row's own text[] */
  sources: string;
}

export interface PostgresHistoryOptions {
  pool: pg.Pool;
  /** schema the migrations ran in */
  schema: string;
}

/**
 * Position history and the `vessels` table, written by one statement per batch through
 * PgBouncer (transaction pooling): no named prepared statements, no session settings, no temp
 * tables.
 *
 * History: one INSERT ... SELECT FROM unnest(<one array literal per column>) ON CONFLICT DO
 * NOTHING on the primary key (mmsi, ts, report); only when some reports were already stored
 * (another receiver's copy, a redelivery) an UPDATE credits the sources they lack. Vessels: one
 * INSERT ... ON CONFLICT over rows sorted by mmsi, so concurrent writers take row locks in the
 * same order and cannot deadlock; upserts of invalid MMSIs (isValidMmsi) are left out and
 * counted. Both inserts are one statement (writeStatement).
 */
export class PostgresHistoryStore implements HistoryStore {
  private readonly pool: pg.Pool;
  private readonly s: string;
  /** UTC days (epoch day numbers) known to have a partition; a cache, never authoritative. */
  private readonly knownDays = new Set<number>();
  /** source id, or JSON of a source list -> the quoted text[] element (see sourcesElement) */
  private readonly sourceText = new Map<string, string>();
  private readonly sourceListText = new Map<string, string>();
  /** the statement that writes a batch (writeStatement), built once: it names the schema */
  private readonly writeSql: string;
  /** vessel upserts refused since start, by reason (fusion exports them as a counter) */
  readonly rejected = { invalidMmsi: 0 };

  constructor(options: PostgresHistoryOptions) {
    this.pool = options.pool;
    this.s = quoteIdent(options.schema);
    this.writeSql = writeStatement(this.s);
  }

  async writeBatch(batch: { history: readonly HistoryRow[]; vessels: readonly VesselUpsert[] }): Promise<HistoryWriteResult> {
    const history = mergeHistoryRows(batch.history);
    const merged = mergeVesselUpserts(batch.vessels);
    const vessels = merged.filter((v) => isValidMmsi(v.mmsi));
    const vesselsRejected = merged.length - vessels.length;
    this.rejected.invalidMmsi += vesselsRejected;
    if (history.length === 0 && vessels.length === 0) return { historyInserted: 0, vesselsUpserted: 0, vesselsRejected };
    let columns: HistoryColumns;
    try {
      columns = this.historyColumns(history);
    } catch (err) {
      throw classifyPgError(err, 'validating history rows');
    }
    await this.ensurePartitionsFor(history.map((r) => r.ts));
    try {
      const written = await this.pool.query<{ history: number; vessels: number }>(this.writeSql, [...historyParams(columns), vesselPayload(vessels)]);
      const historyInserted = written.rows[0]!.history;
      // Some reports were stored already (another receiver's copy, or a redelivery): they gain
      // the sources they lack, in a statement of its own (see creditSources).
      if (historyInserted < columns.count) await this.creditSources(columns);
      return { historyInserted, vesselsUpserted: written.rows[0]!.vessels, vesselsRejected };
    } catch (err) {
      throw classifyPgError(err, 'writing a history batch');
    }
  }

  /**
   * The batch as one array literal per column (see array-literal.ts), validated on the way:
   * values Postgres would reject mid-statement (and fail the whole batch) are caught here, per
   * record. A row's sources travel as the text of its own `text[]` (arrays of arrays must be
   * rectangular); receivers repeat, so that text is cached per distinct source list.
   */
  private historyColumns(rows: readonly HistoryRow[]): HistoryColumns {
    // element by element, joined once (arrayLiteral), not built up with `+=`
    const reports = new Array<string>(rows.length);
    const sources = new Array<string>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      // Partitions are named by day: a time outside 1970..2100 is a bug upstream, not a day to create.
      if (!(r.ts >= 0 && r.ts < MAX_TS)) throw new RangeError(`history row ${r.key} (mmsi ${r.mmsi}) has a report time out of range: ${r.ts}`);
      if (!Number.isFinite(r.lat) || !Number.isFinite(r.lon) || !Number.isInteger(r.mmsi) || !Number.isInteger(r.msgType)) {
        throw new TypeError(`history row ${r.key} (mmsi ${r.mmsi}) has a non-finite position or a non-integer mmsi or type`);
      }
      // hex digits need no quoting in an array literal; anything else would fail the whole statement
      if (!REPORT_ID.test(r.report)) throw new TypeError(`history row ${r.key} (mmsi ${r.mmsi}) has a report id that is not 16 hex digits: ${JSON.stringify(r.report)}`);
      reports[i] = r.report;
      sources[i] = this.sourcesElement(r.sources);
    }
    const column = <K extends keyof HistoryRow>(k: K) => numberArray(rows, (r) => r[k] as number | null);
    return {
      count: rows.length,
      ts: column('ts'),
      reports: arrayLiteral(reports),
      sources: arrayLiteral(sources),
      mmsi: column('mmsi'),
      lat: column('lat'),
      lon: column('lon'),
      speed: column('speed'),
      course: column('course'),
      heading: column('heading'),
      status: column('status'),
      msgType: column('msgType'),
    };
  }

  private sourcesElement(sources: readonly string[]): string {
    // one cache for single sources (the common row), one for lists: no id of one can equal the other's
    const cache = sources.length === 1 ? this.sourceText : this.sourceListText;
    const id = sources.length === 1 ? sources[0]! : JSON.stringify(sources);
    let element = cache.get(id);
    if (element === undefined) {
      element = quoteElement(textArray(sources));
      // bounded: a flood of distinct (spoofed) source ids must not grow memory
      if (cache.size >= SOURCES_CACHE_MAX) cache.clear();
      cache.set(id, element);
    }
    return element;
  }

  /**
   * Credits the sources a batch's already stored reports lack (another receiver's copy, or a
   * redelivery). A statement of its own, after the insert has committed: it sees rows a
   * concurrent writer committed while the insert waited on them, which the insert's own snapshot
   * would not. Not atomic with the insert, and need not be: crediting is idempotent, and the
   * batch is acked only after both, so a crash in between redelivers it and credits again.
   * Rows are locked in primary-key order, like the insert's.
   */
  private async creditSources(c: HistoryColumns): Promise<void> {
    await this.pool.query(
      `UPDATE ${this.s}.positions AS p
         SET sources = ARRAY(SELECT DISTINCT s FROM unnest(p.sources || l.sources) AS s ORDER BY s)
       FROM (SELECT q.mmsi, q.ts, q.report, i.src::text[] AS sources
             FROM unnest($1::bigint[], $2::text[], $3::integer[], $4::text[]) AS i(ts_ms, report_hex, mmsi, src)
             JOIN ${this.s}.positions AS q
               ON q.mmsi = i.mmsi AND q.ts = to_timestamp(i.ts_ms::float8 / 1000) AND q.report = ('x' || i.report_hex)::bit(64)::bigint
             WHERE NOT (i.src::text[] <@ q.sources)
             ORDER BY q.mmsi, q.ts, q.report
             FOR UPDATE OF q) AS l
       WHERE p.mmsi = l.mmsi AND p.ts = l.ts AND p.report = l.report`,
      [c.ts, c.reports, c.mmsi, c.sources],
    );
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

/**
 * History rows and vessel upserts in ONE statement, so ONE round trip and no BEGIN/COMMIT:
 * each round trip of a transaction waits for fusion's busy event loop, and a drain sampled in
 * pg_stat_activity found the writing backends "idle in transaction" 4/5 of the time. A single
 * statement is a transaction of its own, so the batch is still all or nothing.
 *
 * History: rows in primary-key order (mmsi, ts, report), then vessels in mmsi order, so every
 * writer takes its locks in the same order and concurrent writers cannot deadlock. The vessels
 * CTE reads the history CTE's count before its first row: Postgres runs data-modifying CTEs as
 * they are read, and this makes the history insert finish first whatever the plan. Times
 * convert in float8 (to_timestamp takes float8); a report id's 16 hex digits become its bigint
 * through bit(64). RETURNING counts the rows really added (xmax tricks do not work on
 * partitioned tables).
 *
 * Vessels: the newer fix wins column by column as a unit; static fields merge key by key,
 * newer values over older ones (a batch older than the stored static data only fills gaps); a
 * report newer than the last one clears deleted_at (revives a soft-deleted vessel). Sources
 * already all credited (the common case) keep the stored array instead of re-aggregating it.
 * Short JSON keys: the payload is parsed once by json_to_recordset (plain json: no jsonb
 * conversion of rows that are read once), and every byte is encoded by the client.
 */
function writeStatement(schema: string): string {
  return `WITH h AS (
       INSERT INTO ${schema}.positions (ts, report, mmsi, lat, lon, speed, course, heading, status, msg_type, sources)
       SELECT to_timestamp(x.ts_ms::float8 / 1000), x.report, x.mmsi, x.lat, x.lon, x.speed, x.course, x.heading, x.status, x.msg_type, x.sources::text[]
       FROM (SELECT u.*, ('x' || u.report_hex)::bit(64)::bigint AS report
             FROM unnest($1::bigint[], $2::text[], $3::integer[], $4::double precision[], $5::double precision[], $6::real[], $7::real[], $8::real[], $9::smallint[], $10::smallint[], $11::text[])
               AS u(ts_ms, report_hex, mmsi, lat, lon, speed, course, heading, status, msg_type, sources)) AS x
       ORDER BY x.mmsi, x.ts_ms, x.report
       ON CONFLICT (mmsi, ts, report) DO NOTHING
       RETURNING 1
     ), v AS (
       INSERT INTO ${schema}.vessels AS v (mmsi, last_seen, fix_ts, lat, lon, speed, course, heading, static, static_ts, sources)
       SELECT x.m, to_timestamp(x.ls::float8 / 1000), to_timestamp(x.ft::float8 / 1000), x.la, x.lo, x.sp, x.co, x.he,
              COALESCE(x.st, '{}'::jsonb), to_timestamp(x.sts::float8 / 1000), x.src
       FROM json_to_recordset($12::json) AS x(m integer, ls bigint, ft bigint, la double precision, lo double precision,
            sp real, co real, he real, st jsonb, sts bigint, src text[])
       WHERE (SELECT count(*) FROM h) >= 0
       ORDER BY x.m
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
         sources = CASE WHEN EXCLUDED.sources <@ v.sources THEN v.sources ELSE (
                     SELECT COALESCE(array_agg(s ORDER BY s), '{}') FROM (
                       SELECT DISTINCT s FROM unnest(EXCLUDED.sources || v.sources) AS s LIMIT ${MAX_VESSEL_SOURCES}) AS u) END,
         updated_at = now()
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM h)::integer AS history, (SELECT count(*) FROM v)::integer AS vessels`;
}

/** The history columns as parameters $1..$11 of the write statement. */
function historyParams(c: HistoryColumns): string[] {
  return [c.ts, c.reports, c.mmsi, c.lat, c.lon, c.speed, c.course, c.heading, c.status, c.msgType, c.sources];
}

/** The vessel upserts as parameter $12 of the write statement (json_to_recordset). */
function vesselPayload(vessels: readonly VesselUpsert[]): string {
  return JSON.stringify(
    vessels.map((v) => ({
      m: v.mmsi,
      ls: v.lastSeen,
      ft: v.fix?.ts ?? null,
      la: v.fix?.lat ?? null,
      lo: v.fix?.lon ?? null,
      sp: v.fix?.speed ?? null,
      co: v.fix?.course ?? null,
      he: v.fix?.heading ?? null,
      st: v.static?.fields ?? null,
      sts: v.static?.ts ?? null,
      src: v.sources.length > MAX_VESSEL_SOURCES ? v.sources.slice(0, MAX_VESSEL_SOURCES) : v.sources,
    })),
  );
}

/**
 * One row per (key, ts), sources merged, deduplicated and sorted: ON CONFLICT cannot touch the
 * same row twice in one statement. Fusion already merges per key, so the common batch has no
 * duplicate and single-source rows, and is returned as given (nothing copied).
 */
export function mergeHistoryRows(rows: readonly HistoryRow[]): readonly HistoryRow[] {
  // keyed by the key alone (no string built per row); the rare same key with another ts is a row of its own
  const byKey = new Map<string, HistoryRow[]>();
  let changed = false;
  for (const row of rows) {
    let slot = row;
    if (row.sources.length > 1 && !isSortedSet(row.sources)) {
      slot = { ...row, sources: [...new Set(row.sources)].sort() };
      changed = true;
    }
    const same = byKey.get(row.key);
    if (!same) {
      byKey.set(row.key, [slot]);
      continue;
    }
    changed = true;
    const i = same.findIndex((r) => r.ts === row.ts);
    if (i < 0) same.push(slot);
    else same[i] = { ...same[i]!, sources: [...new Set([...same[i]!.sources, ...row.sources])].sort() };
  }
  if (!changed) return rows;
  const out: HistoryRow[] = [];
  for (const same of byKey.values()) out.push(...same);
  return out;
}

function isSortedSet(values: readonly string[]): boolean {
  for (let i = 1; i < values.length; i++) if (!(values[i - 1]! < values[i]!)) return false;
  return true;
}

/**
 * One upsert per mmsi, sorted by mmsi (lock order), each field keeping the newest value, static
 * fields without nulls (a null means "not in this message", never "erase"). Fusion hands them
 * sorted and one per vessel: then only the static fields are copied.
 */
export function mergeVesselUpserts(upserts: readonly VesselUpsert[]): VesselUpsert[] {
  let sortedUnique = true;
  for (let i = 1; i < upserts.length && sortedUnique; i++) sortedUnique = upserts[i - 1]!.mmsi < upserts[i]!.mmsi;
  if (sortedUnique) return upserts.map((u) => (u.static ? { ...u, static: { ts: u.static.ts, fields: stripNulls(u.static.fields) } } : u));
  const byMmsi = new Map<number, VesselUpsert>();
  for (const u of upserts) {
    const seen = byMmsi.get(u.mmsi);
    if (!seen) {
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
  const out: Record<string, unknown> = {};
  for (const k in fields) {
    const v = fields[k];
    if (v !== null && v !== undefined) out[k] = v;
  }
  return out as Partial<T>;
}

function isoDay(epochDay: number): string {
  return new Date(epochDay * DAY_MS).toISOString().slice(0, 10);
}
