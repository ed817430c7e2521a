import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { closeFrameFor, CloseCode, decodeFrame, encodeMessage, maxPayloadBytes, type DecodeResult } from '../../src/protocol/index.js';
import { sampleMessages } from './fixtures.js';

// Frames through a real `ws` connection on 127.0.0.1, decoded the way coordinator and worker do.
describe('decodeFrame over a real ws connection', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).reverse().forEach((cleanup) => cleanup()));

  async function connect(): Promise<{ client: WebSocket; received: () => Promise<DecodeResult>; server: WebSocketServer }> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: maxPayloadBytes(100_000) });
    cleanups.push(() => server.close());
    await once(server, 'listening');
    const results: DecodeResult[] = [];
    const waiting: ((r: DecodeResult) => void)[] = [];
    server.on('connection', (socket) => {
      socket.on('message', (data, isBinary) => {
        const result = decodeFrame(data, isBinary);
        if (!result.ok) {
          const { code, reason } = closeFrameFor(result.error);
          socket.close(code, reason);
        }
        const resolve = waiting.shift();
        if (resolve) resolve(result);
        else results.push(result);
      });
    });
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    cleanups.push(() => client.terminate());
    await once(client, 'open');
    const received = () => {
      const next = results.shift();
      return next ? Promise.resolve(next) : new Promise<DecodeResult>((resolve) => waiting.push(resolve));
    };
    return { client, received, server };
  }

  it('delivers every message type intact', async () => {
    const { client, received } = await connect();
    for (const message of sampleMessages()) {
      client.send(encodeMessage(message));
      expect(await received()).toEqual({ ok: true, message });
    }
  });

  it('closes the sender of a text frame with 1003', async () => {
    const { client, received } = await connect();
    const closed = once(client, 'close');
    client.send('{"type":"bye","reason":"json"}');
    expect(await received()).toMatchObject({ ok: false, error: { code: 'TEXT_FRAME' } });
    const [code] = (await closed) as [number, Buffer];
    expect(code).toBe(CloseCode.UNSUPPORTED_DATA);
  });
});
