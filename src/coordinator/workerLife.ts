// One worker's life on the coordinator, as a state machine with no socket in it: which state it
// is in, the step it owes, and the named transitions between them. Every change of a worker's
// state goes through one of these transitions; the pool decides membership (who is in), the
// gradient source decides scheduling (who computes what), and both ask this class to move.
// A transition that does not apply in the current state changes nothing and returns false:
// network events race (gradients arriving after a stall), and a late event must not resurrect
// or double-settle a step.
import { PartLostError } from './errors.js';

export { PartLostError };

export type WorkerState =
  /** Authenticated, not yet a member: joins or becomes a standby next. */
  | 'joining'
  /** A member with no step in flight. */
  | 'idle'
  /** A member computing the step it was assigned. */
  | 'computing'
  /** Missed its heartbeats: keeps its connection, gets no steps until it answers. */
  | 'stalled'
  /** Authenticated, but the run has its --workers members: waits for a slot. */
  | 'standby'
  /** Left (closed, said bye, replaced, run finished) or evicted; final. */
  | 'gone';

export type Transition = 'joined' | 'stoodBy' | 'promoted' | 'assigned' | 'accepted' | 'refused' | 'timedOut' | 'stalled' | 'rejoined' | 'left' | 'evicted';

/** For each transition, the states it leaves from and the state it reaches. */
export const TRANSITIONS: Readonly<Record<Transition, { from: readonly WorkerState[]; to: WorkerState }>> = {
  joined: { from: ['joining'], to: 'idle' },
  stoodBy: { from: ['joining', 'stalled'], to: 'standby' },
  promoted: { from: ['standby'], to: 'idle' },
  assigned: { from: ['idle'], to: 'computing' },
  accepted: { from: ['computing'], to: 'idle' },
  refused: { from: ['computing'], to: 'idle' },
  timedOut: { from: ['computing'], to: 'idle' },
  stalled: { from: ['idle', 'computing'], to: 'stalled' },
  rejoined: { from: ['stalled'], to: 'idle' },
  left: { from: ['joining', 'idle', 'computing', 'stalled', 'standby'], to: 'gone' },
  evicted: { from: ['joining', 'idle', 'computing', 'stalled', 'standby'], to: 'gone' },
};

/** Frames refused in a row after which a worker is evicted. */
export const DEFAULT_MAX_REFUSED_IN_ROW = 3;

export interface OwedStep {
  readonly step: number;
  readonly exampleCount: number;
}

interface Pending<T> extends OwedStep {
  resolve: (value: T) => void;
  reject: (reason: Error) => void;
}

export interface WorkerLifeOptions {
  id: string;
  maxRefusedInRow?: number;
  /** Told of every transition taken (the pool logs and emits from here). */
  onTransition?: (transition: Transition, from: WorkerState, to: WorkerState, reason: string) => void;
}

/** `T` is what an accepted step delivers (the gradients message and its timing, on the coordinator). */
export class WorkerLife<T = unknown> {
  private current: WorkerState = 'joining';
  private pending?: Pending<T>;
  private lastAbandonedStep = -1;
  private refusals = 0;
  private endReason?: string;
  private evictedFlag = false;
  private version = -1;
  private readonly maxRefusedInRow: number;

  constructor(private readonly o: WorkerLifeOptions) {
    this.maxRefusedInRow = o.maxRefusedInRow ?? DEFAULT_MAX_REFUSED_IN_ROW;
  }

  get state(): WorkerState {
    return this.current;
  }

  /** A member that can be given a step. */
  get isActive(): boolean {
    return this.current === 'idle' || this.current === 'computing';
  }

  get owed(): OwedStep | undefined {
    return this.pending && { step: this.pending.step, exampleCount: this.pending.exampleCount };
  }

  /** The last step whose part was given up on (timeout, stall, refusal): gradients for it are late. */
  get abandonedStep(): number {
    return this.lastAbandonedStep;
  }

  get refusedInRow(): number {
    return this.refusals;
  }

  /** The weights version this worker holds, as far as the coordinator knows. */
  get weightsVersion(): number {
    return this.version;
  }

  get wasEvicted(): boolean {
    return this.evictedFlag;
  }

  /** Why the worker is gone (absent while it is not). */
  get goneReason(): string | undefined {
    return this.endReason;
  }

  /** Weights of `version` were sent to it (welcome, broadcast or resync). */
  sentWeights(version: number): void {
    if (this.current !== 'gone') this.version = version;
  }

  joined(weightsVersion: number): boolean {
    if (!this.move('joined', 'took a free slot')) return false;
    this.version = weightsVersion;
    return true;
  }

  stoodBy(): boolean {
    return this.move('stoodBy', 'the run has all its workers');
  }

  promoted(weightsVersion: number): boolean {
    if (!this.move('promoted', 'a slot freed')) return false;
    this.version = weightsVersion;
    return true;
  }

  /** Gives it a step; the promise settles when its part is accepted or lost. */
  assigned(step: number, exampleCount: number): Promise<T> {
    if (!this.move('assigned', `step ${step}`)) {
      return Promise.reject(new PartLostError(`worker ${this.o.id} cannot take step ${step} while ${this.current}`));
    }
    return new Promise<T>((resolve, reject) => {
      this.pending = { step, exampleCount, resolve, reject };
    });
  }

  /** Its gradients for the owed step passed every check. */
  accepted(value: T): boolean {
    const pending = this.pending;
    if (!pending || !this.move('accepted', `step ${pending.step}`)) return false;
    this.pending = undefined;
    this.refusals = 0;
    pending.resolve(value);
    return true;
  }

  /**
   * A frame from it was refused. Its part of the owed step (if any) ends now; after
   * maxRefusedInRow refusals in a row it is evicted. Returns true when this refusal evicted it.
   */
  refused(why: string): boolean {
    this.refusals += 1;
    if (this.current === 'computing') {
      this.move('refused', why);
      this.abandon(`sent a refused frame (${why})`);
    }
    if (this.refusals >= this.maxRefusedInRow && this.current !== 'gone') {
      return this.evicted(`${this.refusals} frames refused in a row, the last: ${why}`);
    }
    return false;
  }

  /** No gradients for `step` within the step deadline. */
  timedOut(step: number, why: string): boolean {
    if (this.pending?.step !== step || !this.move('timedOut', why)) return false;
    this.abandon(why);
    return true;
  }

  stalled(why: string): boolean {
    if (!this.move('stalled', why)) return false;
    this.abandon(`stalled (${why})`);
    return true;
  }

  rejoined(why: string): boolean {
    return this.move('rejoined', why);
  }

  left(reason: string): boolean {
    return this.end('left', reason);
  }

  evicted(reason: string): boolean {
    if (!this.end('evicted', reason)) return false;
    this.evictedFlag = true;
    return true;
  }

  private end(transition: 'left' | 'evicted', reason: string): boolean {
    if (!this.move(transition, reason)) return false;
    this.endReason = reason;
    this.abandon(`${transition} (${reason})`);
    return true;
  }

  private abandon(why: string): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    this.lastAbandonedStep = pending.step;
    pending.reject(new PartLostError(`worker ${this.o.id} ${why} during step ${pending.step}`));
  }

  private move(transition: Transition, reason: string): boolean {
    const rule = TRANSITIONS[transition];
    const from = this.current;
    if (!rule.from.includes(from)) return false;
    this.current = rule.to;
    this.o.onTransition?.(transition, from, rule.to, reason);
    return true;
  }
}
