// Starts a real coordinator with relays in front of its workers (each relay launches its own
// local workers), and waits for all of them to exit: the shape of a multi-host run with
// host-level aggregation, on 127.0.0.1.
import type { ChildProcess } from 'node:child_process';
import { startCli, type CliResult } from './cli.js';
import { freePort } from './net.js';

export interface Exited extends CliResult {
  child: ChildProcess;
}

/** Collects a child's output and resolves at its exit. */
export function collect(child: ChildProcess, onStderr?: (text: string) => void): Promise<Exited> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => {
    stderr += d;
    onStderr?.(stderr);
  });
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(stdout.trim().split('\n').pop() ?? '');
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json, child });
    });
  });
}

export interface RelayRun {
  coordinator: Promise<Exited>;
  relays: Promise<Exited>[];
  coordinatorProcess: ChildProcess;
  /** Resolves once `pattern` appears in relay `i`'s stderr (its workers' logs included). */
  relayLog(i: number, pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/** A coordinator with `relays` members, each a relay launching `perRelay` local workers. */
export async function startRelayRun(relays: number, perRelay: number, coordinatorFlags: string[], relayFlags: string[] = []): Promise<RelayRun> {
  const port = await freePort();
  const coordinatorProcess = startCli(['coordinator', '--workers', String(relays), '--port', String(port), ...coordinatorFlags]);
  const coordinator = collect(coordinatorProcess);
  // A flag given twice is refused, so the default level only when the caller names none.
  const logLevel = relayFlags.includes('--log-level') ? [] : ['--log-level', 'info'];
  const logs: string[] = [];
  const waiters: { i: number; pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const relayExits = Array.from({ length: relays }, (_, i) =>
    collect(
      startCli(['relay', '--coordinator', `ws://127.0.0.1:${port}`, '--workers', String(perRelay), '--relay-id', `relay-${i}`, '--backend', 'wasm', ...logLevel, ...relayFlags]),
      (text) => {
        logs[i] = text;
        for (const w of [...waiters]) {
          const match = w.i === i ? text.match(w.pattern) : null;
          if (match) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(match);
          }
        }
      },
    ),
  );
  const relayLog = (i: number, pattern: RegExp, timeoutMs = 120_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const now = (logs[i] ?? '').match(pattern);
      if (now) return resolve(now);
      const timer = setTimeout(() => reject(new Error(`relay ${i} never logged ${pattern}\n${(logs[i] ?? '').slice(-3000)}`)), timeoutMs);
      waiters.push({ i, pattern, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  return { coordinator, relays: relayExits, coordinatorProcess, relayLog };
}
