import { buildDashboard } from '../dashboard.js';
import { geomapPanel } from '../panels.js';

/** The schema `aisflow migrate` creates the tables in (DEFAULT_POSTGRES_SCHEMA of the store). */
export const VESSELS_SCHEMA = 'aisflow';

/**
 * The latest fix of every live vessel, read from the `vessels` table (not from Redis: Grafana
 * has no Redis geo datasource, and Postgres is what a Grafana install can already reach).
 * `$__timeFilter(last_seen)` lets the time picker choose how recent a vessel must be;
 * soft-deleted vessels are hidden; the LIMIT keeps the browser responsive on big fleets. Name
 * and call sign come from the merged static data (types 5, 19, 24) for the tooltip.
 */
export const MAP_SQL = [
  'SELECT mmsi, lat, lon, speed, course, heading,',
  "  static->>'shipName' AS ship_name, static->>'callsign' AS callsign,",
  '  last_seen AS "time"',
  `FROM ${VESSELS_SCHEMA}.vessels`,
  'WHERE deleted_at IS NULL',
  '  AND lat IS NOT NULL AND lon IS NOT NULL',
  '  AND $__timeFilter(last_seen)',
  'ORDER BY last_seen DESC',
  'LIMIT 20000',
].join('\n');

export function mapDashboard() {
  return buildDashboard({
    uid: 'aisflow-map',
    title: 'aisflow / Map',
    description: 'Live vessel positions (latest fix per vessel) from the PostgreSQL vessels table',
    variables: 'map',
    rows: [
      {
        title: 'Vessels',
        panels: [
          geomapPanel({
            title: 'Live vessels',
            description: 'Latest accepted fix of each vessel heard in the time range, coloured by speed over ground (knots) and rotated by heading. Soft-deleted (long silent) vessels are hidden.',
            unit: 'velocityknot',
            sql: MAP_SQL,
            colorField: 'speed',
            thresholds: [
              [null, 'blue'],
              [0.5, 'green'],
              [15, 'orange'],
              [30, 'red'],
            ],
          }),
        ],
      },
    ],
  });
}
