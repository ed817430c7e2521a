// Mutual authentication by challenge-response: each side proves it knows the run's token
// without sending it. The worker's hello carries a fresh nonce; the coordinator answers with its
// own nonce and a proof, HMAC-SHA256(token, COORDINATOR_LABEL ‖ workerNonce ‖ coordinatorNonce);
// the worker checks it before it says anything more and answers with its own proof,
// HMAC-SHA256(token, WORKER_LABEL ‖ coordinatorNonce ‖ workerNonce). The labels keep one side's
// proof from being replayed as the other's; the fresh nonces keep an old proof from being
// replayed at all. A peer that does not know the token learns only a nonce and a MAC.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const NONCE_BYTES = 32;
/** Largest frame either side accepts before the other has proven the token: a handshake message is a few hundred bytes. */
export const HANDSHAKE_MAX_PAYLOAD_BYTES = 16 * 1024;
export const PROOF_BYTES = 32;
const COORDINATOR_LABEL = 'dsdc-dist coordinator proof v2\n';
const WORKER_LABEL = 'dsdc-dist worker proof v2\n';

export function makeNonce(): Uint8Array {
  return new Uint8Array(randomBytes(NONCE_BYTES));
}

function proof(token: string, label: string, first: Uint8Array, second: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', token).update(label).update(first).update(second).digest());
}

/** What the coordinator sends to show it knows `token`. */
export function coordinatorProof(token: string, workerNonce: Uint8Array, coordinatorNonce: Uint8Array): Uint8Array {
  return proof(token, COORDINATOR_LABEL, workerNonce, coordinatorNonce);
}

/** What the worker sends to show it knows `token`. */
export function workerProof(token: string, coordinatorNonce: Uint8Array, workerNonce: Uint8Array): Uint8Array {
  return proof(token, WORKER_LABEL, coordinatorNonce, workerNonce);
}

/** Constant-time comparison of a received proof with the expected one. */
export function proofsMatch(expected: Uint8Array, received: Uint8Array): boolean {
  return expected.byteLength === received.byteLength && timingSafeEqual(expected, received);
}
