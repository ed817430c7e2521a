// The coordinator's half of the handshake for a test that plays the coordinator by hand: waits
// for the worker's hello, proves the token, and waits for the worker's auth.
import type { WebSocket } from 'ws';
import { coordinatorProof, decodeFrame, encodeMessage, makeNonce, proofsMatch, workerProof, type HelloMessage } from '../../src/protocol/index.js';

export function answerHandshake(socket: WebSocket, token: string, timeoutMs = 60_000): Promise<HelloMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`scripted coordinator: no handshake within ${timeoutMs} ms`)), timeoutMs);
    let hello: HelloMessage | undefined;
    const nonce = makeNonce();
    const onMessage = (data: Buffer, isBinary: boolean) => {
      const decoded = decodeFrame(data, isBinary);
      if (!decoded.ok) return;
      const message = decoded.message;
      if (message.type === 'hello') {
        hello = message;
        socket.send(encodeMessage({ type: 'challenge', nonce, proof: coordinatorProof(token, message.nonce, nonce) }), { binary: true });
      } else if (message.type === 'auth' && hello) {
        clearTimeout(timer);
        socket.off('message', onMessage);
        if (proofsMatch(workerProof(token, nonce, hello.nonce), message.proof)) resolve(hello);
        else reject(new Error('scripted coordinator: the worker proved another token'));
      }
    };
    socket.on('message', onMessage);
  });
}
