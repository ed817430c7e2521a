// Whether this machine can run a lab, found out once per process by trying: root, the ip and tc
// tools, a namespace made and removed, and which impairment the kernel allows (sch_netem, or
// TAP devices for the userspace delay line).
import { existsSync } from 'node:fs';
import { tryRunSync } from './commands.js';
import { pythonPath } from './delayLine.js';
import { DEFAULT_PREFIX, labNames } from './naming.js';
import type { Impairment } from './shaping.js';

export type Support = { ok: true; impairment: Impairment } | { ok: false; reason: string };

/** Lab number 0 of each process is the probe; real labs count from 1. */
export const PROBE_LAB_NUMBER = 0;
/** Set to `delayline` to use the delay line even where netem exists (to test that path). */
export const IMPAIRMENT_ENV = 'NETLAB_IMPAIRMENT';

let cached: Support | undefined;

export function probeSupport(): Support {
  if (cached) return cached;
  cached = probe();
  return cached;
}

function probe(): Support {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'making network namespaces needs root (run as root, as CI does)' };
  if (tryRunSync('ip', ['-V']) === undefined) return { ok: false, reason: 'the `ip` tool (iproute2) is not installed' };
  if (tryRunSync('tc', ['-V']) === undefined) return { ok: false, reason: 'the `tc` tool (iproute2) is not installed' };
  const probeNs = `${labNames(DEFAULT_PREFIX, process.pid, PROBE_LAB_NUMBER).labId}-probe`;
  if (tryRunSync('ip', ['netns', 'add', probeNs]) === undefined) return { ok: false, reason: '`ip netns add` failed: this kernel or container cannot make network namespaces' };
  try {
    const bridge = tryRunSync('ip', ['-n', probeNs, 'link', 'add', 'probebr', 'type', 'bridge']);
    if (bridge === undefined) return { ok: false, reason: 'this kernel cannot make a bridge (CONFIG_BRIDGE)' };
    const veth = tryRunSync('ip', ['-n', probeNs, 'link', 'add', 'probea', 'type', 'veth', 'peer', 'name', 'probeb']);
    if (veth === undefined) return { ok: false, reason: 'this kernel cannot make veth pairs (CONFIG_VETH)' };
    tryRunSync('ip', ['-n', probeNs, 'link', 'set', 'lo', 'up']);
    const hasNetem = tryRunSync('tc', ['-n', probeNs, 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms']) !== undefined;
    if (hasNetem && process.env[IMPAIRMENT_ENV] !== 'delayline') return { ok: true, impairment: 'netem' };
    if (!existsSync('/dev/net/tun')) return { ok: false, reason: 'this kernel has neither sch_netem nor /dev/net/tun (for the userspace delay line)' };
    if (!pythonPath()) return { ok: false, reason: 'this kernel has no sch_netem, and python3 (for the userspace delay line) is not installed' };
    return { ok: true, impairment: 'delayline' };
  } finally {
    tryRunSync('ip', ['netns', 'del', probeNs]);
  }
}
