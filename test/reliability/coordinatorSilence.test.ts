// A worker whose coordinator accepted the connection and then went silent (a half-open socket
// to a dead machine: no message, no ping) drops the connection and reconnects, and gives up when
// no coordinator has answered for its give-up time. The server here is a real WebSocket server
// on 127.0.0.1 that accepts and never sends.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createLogger } from '../../src/log/logger.js';
import { runRemoteWorker } from '../../src/worker/remoteWorker.js';

describe('a worker facing a silent coordinator', () => {
  let server: WebSocketServer | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('drops the silent connection, reconnects, and gives up after its give-up time', { timeout: 60_000 }, async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    let connections = 0;
    server.on('connection', () => connections++);
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const lines: string[] = [];
    const started = Date.now();
    await expect(
      runRemoteWorker({ url, token: 'silence-test-token', backend: 'cpu', log: createLogger('worker silent', 'info', (l) => lines.push(l)), coordinatorSilenceMs: 1_000, giveUpAfterMs: 7_000 }),
    ).rejects.toThrow(new RegExp(`no coordinator at ${url} for \\d+ s; giving up`));
    expect(connections).toBeGreaterThanOrEqual(2);
    const drops = lines.filter((l) => /nothing from the coordinator for \d+ s; dropping the connection to reconnect/.test(l));
    expect(drops.length).toBe(connections);
    expect(Date.now() - started).toBeGreaterThanOrEqual(7_000);
  });
});
