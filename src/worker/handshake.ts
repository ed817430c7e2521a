// The worker's half of the handshake, with no socket in it: a hello with a fresh nonce, then the
// coordinator's challenge is checked before anything else is believed or sent. A coordinator
// that cannot prove it knows the token (an impostor on the address, or another run) gets
// nothing more than the hello and the worker stops. See docs/protocol.md "Handshake".
import {
  PROTOCOL_VERSION,
  coordinatorProof,
  makeNonce,
  proofsMatch,
  workerProof,
  type AuthMessage,
  type HelloMessage,
  type Message,
} from '../protocol/index.js';

export type HandshakeAnswer = { kind: 'auth'; auth: AuthMessage } | { kind: 'refused'; why: string };

export class WorkerHandshake {
  private nonce?: Uint8Array;
  private authenticated = false;

  constructor(private readonly token: string) {}

  /** True once the coordinator's proof checked out and our auth went out. */
  get done(): boolean {
    return this.authenticated;
  }

  hello(identity: Omit<HelloMessage, 'type' | 'protocolVersion' | 'nonce'>): HelloMessage {
    this.nonce = makeNonce();
    this.authenticated = false;
    return { type: 'hello', protocolVersion: PROTOCOL_VERSION, nonce: this.nonce, ...identity };
  }

  receive(message: Message): HandshakeAnswer {
    if (!this.nonce) return { kind: 'refused', why: `the coordinator sent ${message.type} before this worker said hello` };
    if (message.type !== 'challenge') {
      return { kind: 'refused', why: `the coordinator sent '${message.type}' instead of proving it knows the token: it is not a coordinator of this protocol version, or an impostor` };
    }
    if (!proofsMatch(coordinatorProof(this.token, this.nonce, message.nonce), message.proof)) {
      return { kind: 'refused', why: 'the coordinator could not prove it knows the token: it is an impostor, or runs with another token (check --token-file / $DSDC_TOKEN)' };
    }
    this.authenticated = true;
    return { kind: 'auth', auth: { type: 'auth', proof: workerProof(this.token, message.nonce, this.nonce) } };
  }
}
