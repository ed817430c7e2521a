// Drops a connection on which nothing (no message, no ping) has come from the coordinator for a
// while, so that the reconnect loop runs: a half-open connection to a dead coordinator would
// otherwise wait forever. Used by the worker and by the relay's upstream link.
import { WebSocket } from 'ws';
import type { Logger } from '../log/logger.js';

/** The coordinator pings every few seconds; minutes of silence mean a half-open connection to a dead one. */
export const DEFAULT_COORDINATOR_SILENCE_MS = 180_000;
const SILENCE_CHECK_MS = 5_000;

/** Watches `socket`; returns the function that stops watching. */
export function watchForSilence(socket: WebSocket, limitMs: number, log: Logger): () => void {
  let lastHeard = Date.now();
  let lastCheck = Date.now();
  const heard = () => (lastHeard = Date.now());
  socket.on('message', heard);
  socket.on('ping', heard);
  const timer = setInterval(() => {
    const now = Date.now();
    // This process's own long computation delays the check and the reading of what arrived.
    if (now - lastCheck > 2 * SILENCE_CHECK_MS) lastHeard = Math.max(lastHeard, now - SILENCE_CHECK_MS);
    lastCheck = now;
    if (socket.readyState === WebSocket.OPEN && now - lastHeard > limitMs) {
      log.warn(`nothing from the coordinator for ${Math.round((now - lastHeard) / 1000)} s; dropping the connection to reconnect`);
      socket.terminate();
    }
  }, SILENCE_CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
