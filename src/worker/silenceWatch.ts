// Drops a connection on which nothing (no message, no ping) has come from the coordinator for a
// while, so that the reconnect loop runs: a half-open connection to a dead coordinator, or one
// across a partition that has healed, would otherwise wait for the kernel's own timeouts. Used by
// the worker and by the relay's upstream link.
import { WebSocket } from 'ws';
import type { Logger } from '../log/logger.js';

/** The coordinator pings every few seconds; minutes of silence mean a half-open connection to a dead one. */
export const DEFAULT_COORDINATOR_SILENCE_MS = 180_000;
const SILENCE_CHECK_MS = 1_000;
/**
 * Once the coordinator's pings have been seen, silence for this many of its ping intervals means
 * the connection is dead (the coordinator itself gives up on a worker after 10 heartbeat timeouts,
 * 30 intervals): a partition that healed is then noticed in seconds, not after the fixed limit.
 */
export const SILENCE_PING_INTERVALS = 10;
/** The least silence that counts as a dead connection, however fast the coordinator pings. */
export const MIN_COORDINATOR_SILENCE_MS = 5_000;
/** Pings whose gaps give the coordinator's ping interval (their median). */
const PING_GAPS_KEPT = 5;

/** The silence that means a dead connection: `configuredMs`, or fewer once the ping gaps are known. */
export function silenceLimitMs(configuredMs: number, pingGapsMs: readonly number[]): number {
  if (pingGapsMs.length === 0) return configuredMs;
  const typicalGap = [...pingGapsMs].sort((a, b) => a - b)[Math.floor(pingGapsMs.length / 2)];
  return Math.min(configuredMs, Math.max(MIN_COORDINATOR_SILENCE_MS, SILENCE_PING_INTERVALS * typicalGap));
}

/** Watches `socket`; returns the function that stops watching. */
export function watchForSilence(socket: WebSocket, limitMs: number, log: Logger): () => void {
  let lastHeard = Date.now();
  let lastCheck = Date.now();
  let lastPing: number | undefined;
  const pingGaps: number[] = [];
  const heard = () => (lastHeard = Date.now());
  socket.on('message', heard);
  socket.on('ping', () => {
    const now = Date.now();
    if (lastPing !== undefined) pingGaps.push(now - lastPing);
    if (pingGaps.length > PING_GAPS_KEPT) pingGaps.shift();
    lastPing = now;
    heard();
  });
  const timer = setInterval(() => {
    const now = Date.now();
    // This process's own long computation delays the check and the reading of what arrived.
    if (now - lastCheck > 2 * SILENCE_CHECK_MS) lastHeard = Math.max(lastHeard, now - SILENCE_CHECK_MS);
    lastCheck = now;
    if (socket.readyState === WebSocket.OPEN && now - lastHeard > silenceLimitMs(limitMs, pingGaps)) {
      log.warn(`nothing from the coordinator for ${Math.round((now - lastHeard) / 1000)} s; dropping the connection to reconnect`);
      socket.terminate();
    }
  }, SILENCE_CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
