import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// One vitest project per backend, discovered from test/integration/<backend>/ (BullMQ keeps
// one config per backend; discovery keeps this file from becoming a merge hotspot). A folder's
// optional global-setup.ts checks its service is up and clears old state once per run.
const integrationRoot = 'test/integration';
const backends = existsSync(integrationRoot)
  ? readdirSync(integrationRoot, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name)
  : [];

const integrationProjects = backends.map((backend) => {
  const dir = join(integrationRoot, backend);
  const setup = join(dir, 'global-setup.ts');
  return {
    test: {
      name: `int:${backend}`,
      include: [`${dir}/**/*.int.test.ts`],
      globalSetup: existsSync(setup) ? [setup] : [],
      testTimeout: 120_000,
      hookTimeout: 120_000,
    },
  };
});

export default defineConfig({
  test: {
    // Two cores: integration files share real servers (unique prefixes isolate them), and more
    // than two at once only adds contention.
    maxWorkers: 2,
    minWorkers: 1,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['pipeline/src/**/*.test.ts', 'operator/src/**/*.test.ts', 'grafana/**/*.test.ts', 'alerts/**/*.test.ts', 'test/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'golden',
          include: ['test/golden/**/*.test.ts'],
          testTimeout: 120_000,
        },
      },
      ...integrationProjects,
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.e2e.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // The e2e files each start whole pipelines: one at a time.
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
