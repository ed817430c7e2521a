// The coordinator's half of one connection's handshake, with no socket in it: a hello is
// answered with a challenge (our nonce and our proof of the token), an auth is checked against
// the proof the worker must give. Anything else, or anything out of order, is a refusal with the
// close code to use. See docs/protocol.md "Handshake".
import {
  CloseCode,
  HANDSHAKE_MAX_PAYLOAD_BYTES,
  PROTOCOL_VERSION,
  coordinatorProof,
  makeNonce,
  proofsMatch,
  workerProof,
  type ChallengeMessage,
  type HelloMessage,
  type Message,
} from '../protocol/index.js';

export const HANDSHAKE_TIMEOUT_MS = 5_000;
export { HANDSHAKE_MAX_PAYLOAD_BYTES };

export type HandshakeStep =
  | { kind: 'challenge'; challenge: ChallengeMessage }
  | { kind: 'authenticated'; hello: HelloMessage }
  | { kind: 'refused'; code: CloseCode; reason: string; log: string; badToken: boolean };

export class CoordinatorHandshake {
  private hello?: HelloMessage;
  private challenge?: ChallengeMessage;

  constructor(private readonly token: string) {}

  receive(message: Message): HandshakeStep {
    if (!this.hello) {
      if (message.type !== 'hello') return refuse(CloseCode.UNEXPECTED_MESSAGE, `expected hello, got ${message.type}`);
      if (message.protocolVersion !== PROTOCOL_VERSION) {
        return refuse(CloseCode.VERSION_MISMATCH, `protocol version ${PROTOCOL_VERSION} required`, `protocol version ${message.protocolVersion}, this coordinator speaks ${PROTOCOL_VERSION}`);
      }
      this.hello = message;
      const nonce = makeNonce();
      this.challenge = { type: 'challenge', nonce, proof: coordinatorProof(this.token, message.nonce, nonce) };
      return { kind: 'challenge', challenge: this.challenge };
    }
    if (message.type !== 'auth') return refuse(CloseCode.UNEXPECTED_MESSAGE, `expected auth, got ${message.type}`);
    const expected = workerProof(this.token, this.challenge!.nonce, this.hello.nonce);
    if (!proofsMatch(expected, message.proof)) {
      return { kind: 'refused', code: CloseCode.BAD_TOKEN, reason: 'bad token', log: `wrong proof of the token; closed with code ${CloseCode.BAD_TOKEN}`, badToken: true };
    }
    return { kind: 'authenticated', hello: this.hello };
  }

  /** The worker id its hello claimed, for the log (not yet proven). */
  get claimedId(): string | undefined {
    return this.hello?.workerId;
  }
}

function refuse(code: CloseCode, reason: string, log = reason): HandshakeStep {
  return { kind: 'refused', code, reason, log, badToken: false };
}
