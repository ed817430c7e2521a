// netlab: hosts in network namespaces on one bridge, with shaped links, partitions and kills,
// for tests and for users (tools/netlab/cli.ts). See README "Across a network: netlab".
import { probeSupport } from './support.js';

export { NetLab, type LabHost } from './netLab.js';
export type { LinkShape, Impairment } from './shaping.js';
export { NetLabError } from './commands.js';
export { sweepStale, listNamespaces } from './cleanup.js';
export { DEFAULT_PREFIX } from './naming.js';

/** Whether a lab can be made here (root, ip, tc, namespaces, an impairment); why not when not. */
export function netlabSupport(): { ok: true } | { ok: false; reason: string } {
  const support = probeSupport();
  return support.ok ? { ok: true } : support;
}

/** How this machine makes delay, jitter and loss: `netem`, or the userspace `delayline`. */
export function netlabImpairment(): 'netem' | 'delayline' | undefined {
  const support = probeSupport();
  return support.ok ? support.impairment : undefined;
}
