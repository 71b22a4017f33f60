-- Up Migration
-- Runs with search_path set to the target schema (aisflow migrate --schema): every name below
-- is unqualified, and every function pins that search_path (SET search_path FROM CURRENT), so
-- callers through PgBouncer never depend on session state.

-- Position history, one partition per UTC day of report time. The primary key is the report's
-- idempotency key plus its time (a partitioned table's keys must include the partition key), so
-- a redelivered batch adds no rows and the same report from another receiver only adds a source.
CREATE TABLE positions (
  ts        timestamptz      NOT NULL,
  key       text             NOT NULL,
  mmsi      integer          NOT NULL,
  lat       double precision NOT NULL,
  lon       double precision NOT NULL,
  speed     real,
  course    real,
  heading   real,
  status    smallint,
  msg_type  smallint         NOT NULL,
  sources   text[]           NOT NULL,
  PRIMARY KEY (key, ts)
) PARTITION BY RANGE (ts);
CREATE INDEX positions_mmsi_ts ON positions (mmsi, ts);

-- Which day partitions exist and when each was made: retention counts from the later of the
-- day itself and its creation, so an archive replayed at its original (years-old) time stays
-- queryable for the retention period instead of being dropped by the next maintenance run.
CREATE TABLE position_partitions (
  day        date        PRIMARY KEY,
  name       text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Creates the day partitions covering [from_day, to_day] that do not exist yet; returns how many
-- it made. Serialized by a transaction-scoped advisory lock (fine under PgBouncer transaction
-- pooling) so concurrent writers asking for the same day do not race on CREATE TABLE.
CREATE FUNCTION ensure_position_partitions(from_day date, to_day date) RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  d date;
  part text;
  made integer := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(current_schema() || '.positions'));
  d := from_day;
  WHILE d <= to_day LOOP
    IF NOT EXISTS (SELECT 1 FROM position_partitions WHERE day = d) THEN
      part := 'positions_' || to_char(d, 'YYYYMMDD');
      EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF positions FOR VALUES FROM (%L) TO (%L)',
                     part, d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
      INSERT INTO position_partitions (day, name) VALUES (d, part) ON CONFLICT DO NOTHING;
      made := made + 1;
    END IF;
    d := d + 1;
  END LOOP;
  RETURN made;
END $$;

-- Drops day partitions whose day is older than `keep_after` and that were created before
-- `created_before` (see position_partitions); returns the days dropped.
CREATE FUNCTION drop_expired_position_partitions(keep_after date, created_before timestamptz) RETURNS SETOF date
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  p record;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(current_schema() || '.positions'));
  FOR p IN SELECT day, name FROM position_partitions
           WHERE day < keep_after AND created_at < created_before ORDER BY day LOOP
    EXECUTE format('DROP TABLE IF EXISTS %I', p.name);
    DELETE FROM position_partitions WHERE day = p.day;
    RETURN NEXT p.day;
  END LOOP;
END $$;

-- One row per vessel: merged static data, the latest fix (only ever moves forward), the sources
-- that heard it, and `deleted_at` (soft delete of silent vessels; cleared by the next report).
CREATE TABLE vessels (
  mmsi       integer     PRIMARY KEY,
  last_seen  timestamptz NOT NULL,
  fix_ts     timestamptz,
  lat        double precision,
  lon        double precision,
  speed      real,
  course     real,
  heading    real,
  static     jsonb       NOT NULL DEFAULT '{}'::jsonb,
  static_ts  timestamptz,
  sources    text[]      NOT NULL DEFAULT '{}',
  deleted_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX vessels_live_last_seen ON vessels (last_seen) WHERE deleted_at IS NULL;

-- Down Migration
DROP TABLE vessels;
DROP FUNCTION drop_expired_position_partitions(date, timestamptz);
DROP FUNCTION ensure_position_partitions(date, date);
DROP TABLE position_partitions;
DROP TABLE positions;
