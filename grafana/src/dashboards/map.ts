import { buildDashboard } from '../dashboard.js';
import { geomapPanel } from '../panels.js';

/**
 * The latest fix of every live vessel, read from the `vessels` table (not from Redis: Grafana
 * has no Redis geo datasource, and Postgres is what a Grafana install can already reach).
 * `$__timeFilter(last_seen)` lets the time picker choose how recent a vessel must be;
 * soft-deleted vessels are hidden; the LIMIT keeps the browser responsive on big fleets.
 */
export const MAP_SQL = [
  'SELECT mmsi, lat, lon, speed, course, heading, ship_name, last_seen AS "time"',
  'FROM vessels',
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
