// The worker's and the relay's socket send frames with the all-zero masking key (docs/protocol.md,
// "Transport"). Read off the wire by a bare TCP server that answers the WebSocket upgrade itself,
// and then through a real `ws` server, which must still read them.
import * as crypto from 'node:crypto';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { openCoordinatorSocket } from '../../src/worker/coordinatorLink.js';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const closers: Array<() => void> = [];
afterEach(() => closers.splice(0).forEach((close) => close()));

/** Accepts one upgrade and resolves with the first frame's bytes as they came. */
function rawUpgradeServer(): Promise<{ port: number; firstFrame: Promise<Buffer> }> {
  let deliver: (frame: Buffer) => void;
  const firstFrame = new Promise<Buffer>((resolve) => (deliver = resolve));
  const server = net.createServer((socket) => {
    let buffered = Buffer.alloc(0);
    let upgraded = false;
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (!upgraded) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const key = /sec-websocket-key: *(\S+)/i.exec(buffered.subarray(0, end).toString())![1];
        const accept = crypto.createHash('sha1').update(key + WS_GUID).digest('base64');
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
        upgraded = true;
        buffered = buffered.subarray(end + 4);
      }
      if (buffered.length >= 2 + 8 + 4) deliver(buffered);
    });
  });
  closers.push(() => server.close());
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as net.AddressInfo).port, firstFrame })));
}

describe('client frame masking', () => {
  it('sends a masked frame whose key is zero, so the payload crosses the wire as it is', async () => {
    const { port, firstFrame } = await rawUpgradeServer();
    const socket = openCoordinatorSocket(`ws://127.0.0.1:${port}`, undefined);
    closers.push(() => socket.terminate());
    const payload = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7 + 1) % 256));
    socket.once('open', () => socket.send(payload, { binary: true }));
    const frame = await firstFrame;
    expect(frame[0]).toBe(0x82); // FIN, binary
    expect(frame[1] & 0x80).toBe(0x80); // the mask bit is set, as RFC 6455 requires of a client
    expect(frame[1] & 0x7f).toBe(126); // 16-bit length follows
    expect(frame.readUInt16BE(2)).toBe(payload.length);
    expect([...frame.subarray(4, 8)]).toEqual([0, 0, 0, 0]);
    expect(frame.subarray(8, 8 + 6)).toEqual(payload.subarray(0, 6));
  });

  it('is read by a ws server byte for byte', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    closers.push(() => server.close());
    await new Promise((resolve) => server.once('listening', resolve));
    const received = new Promise<Buffer>((resolve) => server.on('connection', (s) => s.once('message', (data) => resolve(data as Buffer))));
    const socket = openCoordinatorSocket(`ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`, undefined);
    closers.push(() => socket.terminate());
    const payload = crypto.randomBytes(200_000);
    socket.once('open', () => socket.send(payload, { binary: true }));
    expect(Buffer.compare(await received, payload)).toBe(0);
  });
});
