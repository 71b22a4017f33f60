#!/usr/bin/env node
/* global process */
// `npm run demo`: README command 1 on a fresh clone. Installs the npm dependencies when they are
// missing (the `aisflow` entry point needs tsx from node_modules), then runs `aisflow demo` with
// the given options. Ctrl-C reaches both processes (same process group): this wrapper ignores it
// and waits for the demo to stop its children and exit, then exits with the demo's code.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

if (!existsSync(join(root, 'node_modules', 'tsx')) || !existsSync(join(root, 'node_modules', 'fastify'))) {
  process.stdout.write('aisflow demo: installing npm dependencies (npm ci)…\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const install = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (install.status !== 0) {
    process.stderr.write('aisflow demo: npm ci failed; run it by hand and read its error (Node.js 20.19+ and network access to the npm registry are needed)\n');
    process.exit(1);
  }
}

const child = spawn(process.execPath, [join(root, 'bin/aisflow.mjs'), 'demo', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    // SIGINT from a terminal already reached the child; SIGTERM sent to this wrapper alone is passed on.
    if (signal === 'SIGTERM' && child.pid) process.kill(child.pid, 'SIGTERM');
  });
}
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
