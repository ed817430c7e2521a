// Helpers for tests that run in netlab: skip with the reason where labs cannot be made (never
// in CI), and run the network probes (tools/netlab/probes.mjs) inside lab hosts.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { netlabSupport, type LabHost } from '../../tools/netlab/index.js';

export const PROBES = fileURLToPath(new URL('../../tools/netlab/probes.mjs', import.meta.url));

/** undefined when labs work here; the reason to skip otherwise. In CI a missing lab is an error. */
export function netlabSkipReason(): string | undefined {
  const support = netlabSupport();
  if (support.ok) return undefined;
  if (process.env.CI) throw new Error(`netlab tests cannot run and CI is set, so they must not skip: ${support.reason}`);
  return `netlab unavailable (${support.reason}); skipped outside CI`;
}

/** Collects a child's stdout lines, and resolves when one is JSON passing `accept`. */
export function jsonLine(child: ChildProcess, accept: (value: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`no matching JSON line within ${timeoutMs} ms; stdout: ${buffered.slice(-500)} stderr: ${stderr.slice(-500)}`)), timeoutMs);
    child.stderr?.on('data', (chunk) => (stderr += chunk));
    child.stdout!.on('data', (chunk) => {
      buffered += chunk;
      for (const line of buffered.split('\n')) {
        try {
          const value = JSON.parse(line);
          if (accept(value)) {
            clearTimeout(timer);
            resolve(value);
            return;
          }
        } catch {
          // not a JSON line
        }
      }
    });
    child.once('exit', (code) => {
      setTimeout(() => reject(new Error(`exited (${code}) before a matching JSON line; stdout: ${buffered.slice(-500)} stderr: ${stderr.slice(-500)}`)), 100);
    });
  });
}

/** Starts a listening probe (echo-server, sink, udp-sink) and waits until it listens. */
export async function startProbe(host: LabHost, mode: string, args: (string | number)[]): Promise<ChildProcess> {
  const child = host.spawn(process.execPath, [PROBES, mode, ...args.map(String)]);
  await jsonLine(child, (value) => 'listening' in value, 15_000);
  return child;
}

/** Runs a probe to its end and returns its last JSON line. */
export async function runProbe(host: LabHost, mode: string, args: (string | number)[], timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const child = host.spawn(process.execPath, [PROBES, mode, ...args.map(String)]);
  return jsonLine(child, () => true, timeoutMs);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
