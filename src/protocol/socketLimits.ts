// The largest frame a connection accepts, changed after the handshake: until the peer has
// proven the token it may send a handshake-sized frame only, so an unauthenticated peer cannot
// make the other side buffer a gradient-sized (or welcome-sized) one. `ws` sets maxPayload per server, not per socket, so
// this reaches into its receiver; the check below fails loudly if a new `ws` renames the field.
import type { WebSocket } from 'ws';
import { CodedError } from '../errors/codedError.js';

interface ReceiverWithLimit {
  _maxPayload: number;
}

export function setMaxPayload(socket: WebSocket, bytes: number): void {
  const receiver = (socket as unknown as { _receiver?: ReceiverWithLimit })._receiver;
  if (!receiver || typeof receiver._maxPayload !== 'number') {
    throw new CodedError('WS_UNSUPPORTED', 'this version of ws has no per-socket maxPayload (WebSocket._receiver._maxPayload); install the ws 8.x that package.json pins (npm ci)');
  }
  receiver._maxPayload = bytes;
}
