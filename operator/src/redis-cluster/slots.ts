import type { RedisSlotChecker } from '../reconcile/reconciler.js';
import { slotCoverage } from './ensure.js';

/** The operator's periodic check that the managed Redis Cluster serves every slot. */
export const redisSlotChecker: RedisSlotChecker = {
  async check(nodes, password) {
    const r = await slotCoverage(nodes, password);
    return { ok: r.ok, message: r.message };
  },
};
