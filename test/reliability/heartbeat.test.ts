// The heartbeat on its own, with fake timers: who is reported silent, when, and what is not
// counted (the coordinator's own pauses).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { EVICT_AFTER_TIMEOUTS, Heartbeat, PINGS_PER_TIMEOUT } from '../../src/coordinator/heartbeat.js';
import type { WorkerConnection } from '../../src/coordinator/workerConnection.js';
import type { WorkerState } from '../../src/coordinator/workerLife.js';

const TIMEOUT_MS = 3000;
const INTERVAL_MS = TIMEOUT_MS / PINGS_PER_TIMEOUT;

/** What the heartbeat reads of a worker; the state is set here as the pool's transitions would. */
type FakeWorker = WorkerConnection & { state: WorkerState };

function fakeWorker(id: string): FakeWorker {
  return { id, state: 'idle', lastSeen: Date.now(), socket: { readyState: WebSocket.OPEN, ping: vi.fn() } } as unknown as FakeWorker;
}

describe('Heartbeat', () => {
  let heartbeat: Heartbeat | undefined;
  const silent: string[] = [];
  const evicted: string[] = [];
  beforeEach(() => {
    vi.useFakeTimers();
    silent.length = 0;
    evicted.length = 0;
  });
  afterEach(() => {
    heartbeat?.stop();
    vi.useRealTimers();
  });

  function watch(workers: FakeWorker[]) {
    heartbeat = new Heartbeat({
      timeoutMs: TIMEOUT_MS,
      workers: () => workers,
      onSilent: (w) => {
        silent.push(w.id);
        (w as FakeWorker).state = 'stalled';
      },
      onEvict: (w) => {
        evicted.push(w.id);
        (w as FakeWorker).state = 'gone';
      },
    });
    heartbeat.start();
  }

  it('pings every worker several times per timeout', () => {
    const a = fakeWorker('a');
    watch([a]);
    vi.advanceTimersByTime(TIMEOUT_MS);
    expect(a.socket.ping).toHaveBeenCalledTimes(PINGS_PER_TIMEOUT);
  });

  it('reports a worker silent for longer than the timeout, once, and not one that answers', () => {
    const quiet = fakeWorker('quiet');
    const chatty = fakeWorker('chatty');
    watch([quiet, chatty]);
    for (let t = 0; t < 3 * TIMEOUT_MS; t += INTERVAL_MS) {
      vi.advanceTimersByTime(INTERVAL_MS);
      chatty.lastSeen = Date.now();
    }
    expect(silent).toEqual(['quiet']);
  });

  it('does not count a pause of the coordinator itself against the workers', () => {
    const a = fakeWorker('a');
    watch([a]);
    // The event loop was blocked for 10 timeouts: the tick runs late, before any pong is read.
    vi.setSystemTime(Date.now() + 10 * TIMEOUT_MS);
    vi.advanceTimersByTime(INTERVAL_MS);
    expect(silent).toEqual([]);
  });

  it('disconnects a stalled worker that stays silent for EVICT_AFTER_TIMEOUTS timeouts', () => {
    const a = fakeWorker('a');
    watch([a]);
    vi.advanceTimersByTime(2 * TIMEOUT_MS);
    expect(silent).toEqual(['a']);
    expect(evicted).toEqual([]);
    vi.advanceTimersByTime(EVICT_AFTER_TIMEOUTS * TIMEOUT_MS);
    expect(evicted).toEqual(['a']);
  });
});
