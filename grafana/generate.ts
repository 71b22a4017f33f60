/**
 * `npm run gen:dashboards`: writes grafana/dashboards/*.json and the chart's copies from
 * buildDashboards(). grafana/dashboards.test.ts fails while the committed files are stale.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderDashboardFiles } from './src/files.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
for (const [path, content] of Object.entries(renderDashboardFiles())) {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
  console.log(`wrote ${path}`);
}
