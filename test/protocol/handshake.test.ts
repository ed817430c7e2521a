// The challenge-response on its own: both halves agree with the right token, refuse with a wrong
// one, and one side's proof cannot stand in for the other's.
import { describe, expect, it } from 'vitest';
import { CoordinatorHandshake } from '../../src/coordinator/handshake.js';
import { CloseCode, PROTOCOL_VERSION, coordinatorProof, makeNonce, workerProof, type ChallengeMessage, type HelloMessage } from '../../src/protocol/index.js';
import { WorkerHandshake } from '../../src/worker/handshake.js';

const identity = { workerId: 'w1', backend: 'cpu', device: 'test', pid: 1 };

describe('handshake', () => {
  it('with the same token each side accepts the other, and the hello and auth carry no token', () => {
    const worker = new WorkerHandshake('shared-token-0123');
    const coordinator = new CoordinatorHandshake('shared-token-0123');
    const hello = worker.hello(identity);
    expect(JSON.stringify(hello)).not.toContain('shared-token');
    const challenge = coordinator.receive(hello);
    expect(challenge.kind).toBe('challenge');
    const answer = worker.receive((challenge as { challenge: ChallengeMessage }).challenge);
    expect(answer.kind).toBe('auth');
    expect(worker.done).toBe(true);
    const auth = (answer as { auth: { type: 'auth'; proof: Uint8Array } }).auth;
    expect(Buffer.from(auth.proof).includes(Buffer.from('shared-token'))).toBe(false);
    expect(coordinator.receive(auth)).toEqual({ kind: 'authenticated', hello });
  });

  it('a worker refuses a coordinator with another token, before sending anything more', () => {
    const worker = new WorkerHandshake('the-real-token');
    const impostor = new CoordinatorHandshake('a-guess');
    const step = impostor.receive(worker.hello(identity)) as { challenge: ChallengeMessage };
    const answer = worker.receive(step.challenge);
    expect(answer).toMatchObject({ kind: 'refused', why: expect.stringMatching(/could not prove it knows the token/) });
    expect(worker.done).toBe(false);
  });

  it('a coordinator refuses a worker whose proof is for another token, with 4001', () => {
    const coordinator = new CoordinatorHandshake('the-real-token');
    const hello: HelloMessage = { type: 'hello', protocolVersion: PROTOCOL_VERSION, nonce: makeNonce(), ...identity };
    const { challenge } = coordinator.receive(hello) as { challenge: ChallengeMessage };
    const refusal = coordinator.receive({ type: 'auth', proof: workerProof('a-guess', challenge.nonce, hello.nonce) });
    expect(refusal).toMatchObject({ kind: 'refused', code: CloseCode.BAD_TOKEN, badToken: true });
  });

  it("the coordinator's proof replayed as the worker's is refused (the labels differ)", () => {
    const coordinator = new CoordinatorHandshake('the-real-token');
    const hello: HelloMessage = { type: 'hello', protocolVersion: PROTOCOL_VERSION, nonce: makeNonce(), ...identity };
    const { challenge } = coordinator.receive(hello) as { challenge: ChallengeMessage };
    expect(coordinator.receive({ type: 'auth', proof: challenge.proof })).toMatchObject({ kind: 'refused', code: CloseCode.BAD_TOKEN });
    expect(coordinatorProof('t', hello.nonce, challenge.nonce)).not.toEqual(workerProof('t', hello.nonce, challenge.nonce));
  });

  it('a proof from an earlier handshake does not open a new one (fresh nonces)', () => {
    const token = 'the-real-token';
    const first = new CoordinatorHandshake(token);
    const hello: HelloMessage = { type: 'hello', protocolVersion: PROTOCOL_VERSION, nonce: makeNonce(), ...identity };
    const { challenge } = first.receive(hello) as { challenge: ChallengeMessage };
    const recorded = workerProof(token, challenge.nonce, hello.nonce);
    const second = new CoordinatorHandshake(token);
    second.receive(hello);
    expect(second.receive({ type: 'auth', proof: recorded })).toMatchObject({ kind: 'refused', code: CloseCode.BAD_TOKEN });
  });

  it('out of order: a first message other than hello, or a second other than auth, is UNEXPECTED_MESSAGE', () => {
    expect(new CoordinatorHandshake('t').receive({ type: 'heartbeat', time: 1 })).toMatchObject({ kind: 'refused', code: CloseCode.UNEXPECTED_MESSAGE });
    const coordinator = new CoordinatorHandshake('t');
    coordinator.receive({ type: 'hello', protocolVersion: PROTOCOL_VERSION, nonce: makeNonce(), ...identity });
    expect(coordinator.receive({ type: 'bye', reason: 'x' })).toMatchObject({ kind: 'refused', code: CloseCode.UNEXPECTED_MESSAGE });
  });
});
