import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('aisflow --help', () => {
  it('lists every subcommand', () => {
    const run = spawnSync(process.execPath, ['bin/aisflow.mjs', '--help'], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(0);
    const listed = [...run.stdout.matchAll(/^ {2}([a-z-]+)\b/gm)].map((m) => m[1]);
    for (const name of ['decode', 'ingest', 'fusion', 'api', 'migrate', 'demo', 'operator', 'redis-cluster']) {
      expect(listed, run.stdout).toContain(name);
    }
  });

  it('documents the demo options', () => {
    const run = spawnSync(process.execPath, ['bin/aisflow.mjs', 'demo', '--help'], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(0);
    for (const option of ['--port', '--duration', '--rate', '--name', '--clean']) expect(run.stdout).toContain(option);
  });
});
