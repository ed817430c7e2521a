// What an unauthenticated connection may cost: at most maxPending handshakes at once, and an
// address whose hellos failed waits a doubling backoff before it may try again, so guessing the
// token over fresh connections runs at a few tries per minute instead of thousands per second.
export const DEFAULT_MAX_PENDING_HANDSHAKES = 16;
export const FAILED_HELLO_BACKOFF_MS = 1_000;
export const MAX_FAILED_HELLO_BACKOFF_MS = 60_000;
/** Addresses remembered at most; the oldest are forgotten first. */
const MAX_REMEMBERED_ADDRESSES = 10_000;

export type AdmissionRefusal = { status: 429 | 503; reason: string };

export interface AdmissionOptions {
  maxPending?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  now?: () => number;
}

export class Admission {
  private pendingCount = 0;
  private readonly failures = new Map<string, { count: number; until: number }>();
  private readonly maxPending: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly now: () => number;

  constructor(o: AdmissionOptions = {}) {
    this.maxPending = o.maxPending ?? DEFAULT_MAX_PENDING_HANDSHAKES;
    this.backoffMs = o.backoffMs ?? FAILED_HELLO_BACKOFF_MS;
    this.maxBackoffMs = o.maxBackoffMs ?? MAX_FAILED_HELLO_BACKOFF_MS;
    this.now = o.now ?? Date.now;
  }

  get pending(): number {
    return this.pendingCount;
  }

  /** Why a new connection from `address` is refused now, or undefined when it may start a handshake. */
  refusal(address: string): AdmissionRefusal | undefined {
    const failed = this.failures.get(address);
    const wait = failed ? failed.until - this.now() : 0;
    if (wait > 0) return { status: 429, reason: `${failed!.count} failed handshake(s) from ${address}: try again in ${Math.ceil(wait / 1000)} s` };
    if (this.pendingCount >= this.maxPending) return { status: 503, reason: `${this.pendingCount} handshakes already pending (at most ${this.maxPending})` };
    return undefined;
  }

  /** A handshake starts; returns the function that ends it (idempotent). */
  begin(): () => void {
    this.pendingCount += 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.pendingCount -= 1;
    };
  }

  failed(address: string): void {
    const count = (this.failures.get(address)?.count ?? 0) + 1;
    this.failures.delete(address);
    this.failures.set(address, { count, until: this.now() + Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (count - 1)) });
    if (this.failures.size > MAX_REMEMBERED_ADDRESSES) this.failures.delete(this.failures.keys().next().value!);
  }

  succeeded(address: string): void {
    this.failures.delete(address);
  }
}
