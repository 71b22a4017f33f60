#!/usr/bin/env node
// The `aisflow` command. Runs the TypeScript sources through tsx's loader so a fresh clone needs
// only `npm ci`; container images run the same entry point.
import { register } from 'tsx/esm/api';

register();
await import('../pipeline/src/bin/cli.ts');
