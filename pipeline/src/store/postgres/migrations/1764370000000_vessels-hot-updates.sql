-- Up Migration
-- Every batch rewrites the row of each vessel it heard (last_seen, the fix). With room left on
-- each page (fillfactor) and no index on a changing column, those updates are HOT: the new row
-- version stays on its page and no index gains an entry. The partial index on last_seen made
-- every update a full one; soft delete, its only reader, scans the table every few minutes
-- instead (one sequential pass over one row per vessel).
DROP INDEX vessels_live_last_seen;
ALTER TABLE vessels SET (fillfactor = 70);

-- Down Migration
ALTER TABLE vessels RESET (fillfactor);
CREATE INDEX vessels_live_last_seen ON vessels (last_seen) WHERE deleted_at IS NULL;
