// The link to a coordinator that a worker and a relay share: how one connection attempt is opened,
// how what the coordinator sends is read through the handshake, how a failed attempt is put into
// words, and the loop that keeps reconnecting with backoff until the run is over or no
// coordinator answered for --connect-timeout.
import { WebSocket } from 'ws';
import type { Logger } from '../log/logger.js';
import { CloseCode, HANDSHAKE_MAX_PAYLOAD_BYTES, type FrameData, type Message, decodeFrame, encodeMessage, setMaxPayload } from '../protocol/index.js';
import { Backoff } from './backoff.js';
import { diagnoseConnectFailure } from './connectDiagnosis.js';
import { WorkerError } from './errors.js';
import { WORKER_NO_COORDINATOR_EXIT_CODE } from './exitCodes.js';
import type { WorkerHandshake } from './handshake.js';

/** --connect-timeout's default: long enough for a supervisor to restart a coordinator from its checkpoint. */
export const DEFAULT_GIVE_UP_AFTER_MS = 120_000;
/**
 * A connection attempt (TCP connect and the HTTP upgrade) that has no answer in this time is
 * abandoned and retried with backoff: a SYN lost in a partition is otherwise retried by the kernel
 * with doubling gaps, for about two minutes, long after the network is back.
 */
export const CONNECT_ATTEMPT_TIMEOUT_MS = 10_000;
/** Largest frame taken from a proven coordinator: a welcome carries every weight; generous, but bounded. */
export const MAX_COORDINATOR_FRAME_BYTES = 256 * 1024 * 1024;

/**
 * RFC 6455 has every client frame XORed with a random key so that a hostile script in a browser
 * cannot choose the bytes a proxy sees. A worker is not a browser and chooses its own bytes, so
 * it sends the all-zero key, with which `ws` skips the XOR on both ends: a 300 KB gradients frame
 * reached the coordinator in 0.23 ms instead of 1.1-1.5 ms (docs/protocol.md, "Transport").
 */
export const skipClientMasking = (mask: Buffer): Buffer => mask.fill(0);

/** Until the coordinator has proven the token, it may send a handshake-sized frame only. */
export function openCoordinatorSocket(url: string, tlsCa: Buffer | string | undefined): WebSocket {
  return new WebSocket(url, {
    maxPayload: HANDSHAKE_MAX_PAYLOAD_BYTES,
    handshakeTimeout: CONNECT_ATTEMPT_TIMEOUT_MS,
    generateMask: skipClientMasking,
    ...(tlsCa ? { ca: tlsCa } : {}),
  });
}

/**
 * What a coordinator sends on one connection: each frame decoded (handshake-sized until the
 * coordinator has proven the token), the challenge answered, and every message after that given
 * back to handle. A coordinator that fails the proof is refused once: `onRefused` runs, the socket
 * closes with BAD_TOKEN, and nothing more is read from it.
 */
export class CoordinatorMessages {
  private refusedProof = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly handshake: WorkerHandshake,
    private readonly url: string,
    private readonly log: Logger,
    private readonly onRefused: (why: string) => void,
  ) {}

  /** Whether the coordinator failed to prove the token (and so was refused). */
  get refused(): boolean {
    return this.refusedProof;
  }

  /** The message to handle, or undefined: an undecodable frame (said at warn), a handshake step, or a refused coordinator. */
  read(data: FrameData, isBinary: boolean): Message | undefined {
    if (this.refusedProof) return undefined;
    const decoded = decodeFrame(data, isBinary, { maxPayloadBytes: this.handshake.done ? MAX_COORDINATOR_FRAME_BYTES : HANDSHAKE_MAX_PAYLOAD_BYTES });
    if (!decoded.ok) {
      this.log.warn(`refused a message from the coordinator: ${decoded.error.code}: ${decoded.error.message}`);
      return undefined;
    }
    if (this.handshake.done) return decoded.message;
    const answer = this.handshake.receive(decoded.message);
    if (answer.kind === 'refused') {
      this.refusedProof = true;
      this.log.error(`${this.url}: ${answer.why}; sent it nothing but a nonce, and not retrying`);
      this.onRefused(answer.why);
      this.socket.close(CloseCode.BAD_TOKEN, 'coordinator failed to prove the token');
      return undefined;
    }
    setMaxPayload(this.socket, MAX_COORDINATOR_FRAME_BYTES);
    this.socket.send(encodeMessage(answer.auth), { binary: true });
    return undefined;
  }
}

/**
 * One connection attempt, watched for what its failure needs to be put into words: whether the
 * socket opened, and its error (said at debug here, in words with the fix at the end).
 */
export class ConnectAttempt {
  private opened = false;
  private socketError?: Error;

  constructor(
    socket: WebSocket,
    private readonly url: string,
    private readonly tlsCaGiven: boolean,
    log: Logger,
  ) {
    socket.on('open', () => (this.opened = true));
    socket.on('error', (error) => {
      this.socketError = error;
      log.debug(`socket: ${error.message}`);
    });
  }

  /** Why the attempt failed, once its socket closed; undefined if it got into the run, or the run is over. */
  failure(intoTheRun: boolean, code: number, reason: string): Promise<string | undefined> {
    if (intoTheRun) return Promise.resolve(undefined);
    const closedHow = this.opened ? new WorkerError('HANDSHAKE_CLOSED', `the connection closed during the handshake (code ${code}${reason.length ? `, ${reason}` : ''})`) : undefined;
    return diagnoseConnectFailure(this.url, { error: this.socketError ?? closedHow, tlsCaGiven: this.tlsCaGiven });
  }
}

export interface ReconnectLoop {
  url: string;
  log: Logger;
  giveUpAfterMs?: number;
  /** One connection's life: resolves true if it was welcomed into the run. */
  connectOnce: () => Promise<boolean>;
  /** Why the last attempt failed (undefined after one that worked). */
  lastFailure: () => string | undefined;
  /** The run is over for this side (finished, stopped, refused): no more attempts. */
  finished: () => boolean;
  /** Called just before giving up, so that the caller can tell those behind it. */
  onGiveUp?: () => void;
}

/**
 * Connects, and after every closed connection connects again with backoff, until `finished()`;
 * throws NO_COORDINATOR (exit 3) when no coordinator answered for `giveUpAfterMs`.
 * Each new cause of failure is said once, at warn; the same one again is only a retry.
 */
export async function keepConnected(o: ReconnectLoop): Promise<void> {
  const backoff = new Backoff();
  const giveUpAfterMs = o.giveUpAfterMs ?? DEFAULT_GIVE_UP_AFTER_MS;
  let lastContact = Date.now();
  let toldFailure: string | undefined;
  while (!o.finished()) {
    const connected = await o.connectOnce();
    if (connected) lastContact = Date.now();
    if (o.finished()) break;
    const failure = connected ? undefined : o.lastFailure();
    const told = failure !== undefined && failure === toldFailure;
    if (failure !== undefined && !told) {
      o.log.warn(`cannot reach the coordinator at ${o.url}: ${failure}; retrying for up to ${Math.round(giveUpAfterMs / 1000)} s (--connect-timeout)`);
    }
    toldFailure = failure;
    const silentFor = Date.now() - lastContact;
    if (silentFor > giveUpAfterMs) {
      o.onGiveUp?.();
      throw new WorkerError(
        'NO_COORDINATOR',
        `no coordinator at ${o.url} for ${Math.round(silentFor / 1000)} s; giving up (--connect-timeout ${Math.round(giveUpAfterMs / 1000)})` + (failure ? `: ${failure}` : ''),
        { exitCode: WORKER_NO_COORDINATOR_EXIT_CODE },
      );
    }
    const delay = connected ? backoff.reset() : backoff.next();
    (told ? o.log.debug : o.log.info)(`reconnecting to ${o.url} in ${(delay / 1000).toFixed(1)} s`);
    await new Promise((r) => setTimeout(r, delay));
  }
}
