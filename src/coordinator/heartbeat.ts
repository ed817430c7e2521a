// Liveness of the workers: pings every connected worker at a fixed interval (WebSocket ping/pong,
// which the peer's WebSocket library answers by itself) and reports those that have been silent
// longer than the timeout, then those that stay silent much longer. A pause of the coordinator's
// own event loop (a long evaluation) is not counted against the workers.
import { WebSocket } from 'ws';
import type { WorkerConnection } from './workerConnection.js';

export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 30_000;
/** Pings sent per timeout period, so that one lost ping does not make a worker look dead. */
export const PINGS_PER_TIMEOUT = 3;
/** A stalled (or standby) worker still silent after this many timeouts is disconnected for good. */
export const EVICT_AFTER_TIMEOUTS = 10;

export interface HeartbeatOptions {
  timeoutMs: number;
  workers: () => Iterable<WorkerConnection>;
  /** A worker that is taking part has been silent for longer than the timeout. */
  onSilent: (worker: WorkerConnection, silentMs: number) => void;
  /** A stalled or standby worker has stayed silent for EVICT_AFTER_TIMEOUTS timeouts. */
  onEvict: (worker: WorkerConnection, silentMs: number) => void;
}

export class Heartbeat {
  private timer?: NodeJS.Timeout;
  private lastTick = Date.now();
  private readonly intervalMs: number;

  constructor(private readonly o: HeartbeatOptions) {
    this.intervalMs = Math.max(10, Math.floor(o.timeoutMs / PINGS_PER_TIMEOUT));
  }

  start(): void {
    this.lastTick = Date.now();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const now = Date.now();
    // Timers run before pending I/O after a blocked loop: pongs may be waiting unread.
    const coordinatorPaused = now - this.lastTick > 2 * this.intervalMs;
    this.lastTick = now;
    for (const worker of this.o.workers()) {
      if (worker.state === 'gone' || worker.state === 'joining') continue;
      if (coordinatorPaused) worker.lastSeen = Math.max(worker.lastSeen, now - this.intervalMs);
      const silentMs = now - worker.lastSeen;
      if (worker.state === 'stalled' || worker.state === 'standby') {
        if (silentMs > EVICT_AFTER_TIMEOUTS * this.o.timeoutMs) this.o.onEvict(worker, silentMs);
      } else if (silentMs > this.o.timeoutMs) {
        this.o.onSilent(worker, silentMs);
      }
      if (worker.socket.readyState === WebSocket.OPEN) worker.socket.ping();
    }
  }
}
