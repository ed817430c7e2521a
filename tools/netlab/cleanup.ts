// Removing what labs made: the namespaces (with every process in them, and so their links),
// their /etc/netns files, and leftovers of labs whose owner died before removing them. The
// exit and signal handlers here remove the labs of a process that ends without destroy().
import { readdirSync } from 'node:fs';
import { run, tryRun, tryRunSync } from './commands.js';
import { NETNS_ETC, removeNamespaceEtc } from './hostsFile.js';
import { ownerOf } from './naming.js';

const PIDS_GONE_TIMEOUT_MS = 10_000;
const PIDS_POLL_MS = 50;

function parsePids(text: string | undefined): number[] {
  return (text ?? '').split('\n').map((line) => Number(line.trim())).filter((pid) => Number.isInteger(pid) && pid > 0);
}

function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Kills every process in `namespace` and waits until none is left. */
export async function killNamespaceProcesses(namespace: string): Promise<void> {
  const deadline = Date.now() + PIDS_GONE_TIMEOUT_MS;
  for (;;) {
    const pids = parsePids(await tryRun('ip', ['netns', 'pids', namespace]));
    if (pids.length === 0) return;
    if (Date.now() > deadline) throw new Error(`netlab: processes ${pids.join(', ')} in namespace ${namespace} survived SIGKILL for ${PIDS_GONE_TIMEOUT_MS} ms`);
    killPids(pids);
    await new Promise((resolve) => setTimeout(resolve, PIDS_POLL_MS));
  }
}

/** Kills the namespace's processes, runs `beforeDelete` (stop what owns devices in it), deletes it. */
export async function removeNamespace(namespace: string, beforeDelete?: () => Promise<void>): Promise<void> {
  await killNamespaceProcesses(namespace);
  await beforeDelete?.();
  await tryRun('ip', ['netns', 'del', namespace]);
  removeNamespaceEtc(namespace);
}

/** For the exit handler: SIGKILL, delete, no waiting (the kernel frees the rest as they die). */
export function removeNamespaceSync(namespace: string): void {
  killPids(parsePids(tryRunSync('ip', ['netns', 'pids', namespace])));
  tryRunSync('ip', ['netns', 'del', namespace]);
  removeNamespaceEtc(namespace);
}

function ownerGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'EPERM';
  }
}

export async function listNamespaces(): Promise<string[]> {
  const text = await run('ip', ['netns', 'list']);
  return text.split('\n').map((line) => line.trim().split(/\s+/)[0]).filter((name) => name.length > 0);
}

/**
 * Removes the namespaces and /etc/netns entries named with `prefix` whose owner no longer runs,
 * or that belong to this process but to no live lab (`isLive`). Returns what it removed.
 */
export async function sweepStale(prefix: string, isLive: (namespace: string) => boolean): Promise<string[]> {
  const stale = (name: string): boolean => {
    const owner = ownerOf(prefix, name);
    if (owner === undefined) return false;
    return owner === process.pid ? !isLive(name) : ownerGone(owner);
  };
  const removed: string[] = [];
  for (const name of await listNamespaces()) {
    if (!stale(name)) continue;
    await removeNamespace(name);
    removed.push(name);
  }
  let etcEntries: string[] = [];
  try {
    etcEntries = readdirSync(NETNS_ETC);
  } catch {
    etcEntries = [];
  }
  for (const name of etcEntries) {
    if (stale(name) && !removed.includes(name)) {
      removeNamespaceEtc(name);
      removed.push(name);
    }
  }
  return removed;
}

const exitHooks = new Set<() => void>();
let handlersInstalled = false;
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function runExitHooks(): void {
  for (const hook of [...exitHooks]) {
    try {
      hook();
    } catch {
      // best effort: the next lab's sweep removes what is left
    }
  }
  exitHooks.clear();
}

/** Runs `hook` (synchronous) if the process exits or is signalled before it is removed again. */
export function onProcessEnd(hook: () => void): () => void {
  exitHooks.add(hook);
  if (!handlersInstalled) {
    handlersInstalled = true;
    process.on('exit', runExitHooks);
    for (const signal of SIGNALS) {
      const handler = (): void => {
        runExitHooks();
        process.removeListener(signal, handler);
        // Others listening decide what the signal means; alone, we end as the signal would.
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      };
      process.on(signal, handler);
    }
  }
  return () => exitHooks.delete(hook);
}
