// The end of a run: closeServers waits for the open connections to end, but not forever. A peer
// that never completes its close (a stuck worker, a request left hanging) is cut after the grace,
// so that a finished run exits.
import * as http from 'node:http';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { closeServers } from '../../src/coordinator/coordinator.js';
import { createLogger } from '../../src/log/logger.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

async function servers(onRequest: http.RequestListener = (_, res) => res.end('ok')) {
  const server = http.createServer(onRequest);
  const wss = new WebSocketServer({ server });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const lines: string[] = [];
  return { server, wss, port: (server.address() as net.AddressInfo).port, lines, log: createLogger('coordinator', 'info', (l) => lines.push(l)) };
}

/** A client that completes the upgrade, then reads nothing and answers nothing. */
function stuckWebSocketClient(port: number): Promise<net.Socket> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    socket.once('data', () => {
      socket.pause();
      resolve(socket);
    });
    cleanups.push(() => socket.destroy());
  });
}

describe('closeServers', () => {
  it('returns as soon as the connections have closed, cutting nothing', async () => {
    const { server, wss, port, lines, log } = await servers();
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    await new Promise((resolve) => wss.once('connection', resolve));
    for (const peer of wss.clients) peer.close(1000, 'bye');
    const started = Date.now();
    await closeServers(wss, server, log, 5_000);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(lines.filter((l) => /were cut/.test(l))).toEqual([]);
    expect(client.readyState).toBe(WebSocket.CLOSED);
  });

  it('cuts a WebSocket peer that never answers the close, and a request left hanging, after the grace', async () => {
    const { server, wss, port, lines, log } = await servers(() => {
      // Never answers.
    });
    const stuck = await stuckWebSocketClient(port);
    for (const peer of wss.clients) peer.close(1000, 'bye');
    const hanging = http.get(`http://127.0.0.1:${port}/status`);
    hanging.on('error', () => {});
    await new Promise((resolve) => server.once('request', resolve));
    const ended = new Promise((resolve) => stuck.once('close', resolve));
    const started = Date.now();
    await closeServers(wss, server, log, 300);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(3_000);
    stuck.resume();
    await ended;
    expect(lines.filter((l) => /connections still open 0.3 s after the end \(1 WebSocket, the rest HTTP\) were cut/.test(l))).toHaveLength(1);
  });
});
