/* global console */
// Bundles aisflow's TypeScript into plain ES modules for the image (scripts/image/Dockerfile), so
// production processes load JavaScript directly instead of transpiling at start through tsx's
// loader, which also runs a second V8 isolate (~50 MB) in every process.
//   node scripts/build/bundle.mjs [--outdir dist] [--entry name=path ...] [--metafile file]
// Dependencies stay external (node_modules of `npm ci --omit=dev`); chunks and the files the code
// finds next to itself through import.meta.url (the Redis scripts, the SQL migrations, the decode
// worker) land in one directory, so those relative URLs resolve as they do in the sources.
import { build } from 'esbuild';
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: { outdir: { type: 'string', default: join(root, 'dist') }, entry: { type: 'string', multiple: true, default: [] }, metafile: { type: 'string' } },
});
const outdir = resolve(values.outdir);

export const entryPoints = {
  aisflow: join(root, 'pipeline/src/bin/cli.ts'),
  // source-decoder.ts starts `new URL('./decode-worker.mjs', import.meta.url)`
  'decode-worker': join(root, 'pipeline/src/ingest/decode-worker.ts'),
};
for (const e of values.entry) {
  const [name, path] = e.split('=');
  if (!name || !path) throw new Error(`--entry wants name=path, got "${e}"`);
  entryPoints[name] = resolve(path);
}

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const result = await build({
  entryPoints,
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  outExtension: { '.js': '.mjs' },
  chunkNames: '[name]-[hash]',
  sourcemap: 'linked',
  logLevel: 'warning',
  metafile: values.metafile !== undefined,
});
// the inputs, for the image test: every one must be in what the Dockerfile's build stage copies
if (values.metafile) writeFileSync(values.metafile, JSON.stringify(result.metafile));
for (const f of readdirSync(join(root, 'pipeline/src/store/redis')).filter((n) => n.endsWith('.lua'))) {
  cpSync(join(root, 'pipeline/src/store/redis', f), join(outdir, f));
}
cpSync(join(root, 'pipeline/src/store/postgres/migrations'), join(outdir, 'migrations'), { recursive: true });
console.log(`bundled ${Object.keys(entryPoints).join(', ')} into ${outdir}`);
