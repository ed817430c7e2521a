// The worker's life on the coordinator, without a socket: each named transition, from which
// states it may be taken, what it does to the step the worker owes, and eviction after K refusals.
import { describe, expect, it } from 'vitest';
import { PartLostError, TRANSITIONS, WorkerLife, type Transition, type WorkerState } from '../../src/coordinator/workerLife.js';

type Taken = { transition: Transition; from: WorkerState; to: WorkerState; reason: string };

function life(maxRefusedInRow = 3) {
  const taken: Taken[] = [];
  const l = new WorkerLife<string>({ id: 'w1', maxRefusedInRow, onTransition: (transition, from, to, reason) => taken.push({ transition, from, to, reason }) });
  return { l, taken };
}

/** A life brought into `state` by legal transitions. */
function lifeIn(state: WorkerState) {
  const made = life();
  const { l } = made;
  switch (state) {
    case 'joining':
      break;
    case 'idle':
      l.joined(0);
      break;
    case 'computing':
      l.joined(0);
      void l.assigned(1, 8).catch(() => {});
      break;
    case 'stalled':
      l.joined(0);
      l.stalled('test');
      break;
    case 'standby':
      l.stoodBy();
      break;
    case 'gone':
      l.left('test');
      break;
  }
  made.taken.length = 0;
  return made;
}

const ALL_STATES: WorkerState[] = ['joining', 'idle', 'computing', 'stalled', 'standby', 'gone'];

describe('WorkerLife', () => {
  it('joined: joining → idle, holding the welcome weights version', () => {
    const { l, taken } = lifeIn('joining');
    expect(l.joined(7)).toBe(true);
    expect(l.state).toBe('idle');
    expect(l.weightsVersion).toBe(7);
    expect(taken.map((t) => `${t.transition}:${t.from}→${t.to}`)).toEqual(['joined:joining→idle']);
  });

  it('stoodBy: joining → standby, and a standby is not active', () => {
    const { l } = lifeIn('joining');
    expect(l.stoodBy()).toBe(true);
    expect(l.state).toBe('standby');
    expect(l.isActive).toBe(false);
  });

  it('stoodBy: stalled → standby when its slot was taken meanwhile', () => {
    const { l } = lifeIn('stalled');
    expect(l.stoodBy()).toBe(true);
    expect(l.state).toBe('standby');
  });

  it('promoted: standby → idle with the weights of its welcome', () => {
    const { l } = lifeIn('standby');
    expect(l.promoted(4)).toBe(true);
    expect(l.state).toBe('idle');
    expect(l.weightsVersion).toBe(4);
  });

  it('assigned: idle → computing, owing that step', () => {
    const { l } = lifeIn('idle');
    void l.assigned(5, 16);
    expect(l.state).toBe('computing');
    expect(l.owed).toEqual({ step: 5, exampleCount: 16 });
  });

  it('assigned: refused unless idle, with a PartLostError and no change', async () => {
    const { l } = lifeIn('stalled');
    await expect(l.assigned(5, 16)).rejects.toBeInstanceOf(PartLostError);
    expect(l.state).toBe('stalled');
  });

  it('accepted: computing → idle, the step settles with the gradients and refusals reset', async () => {
    const { l } = lifeIn('idle');
    void l.assigned(1, 8).catch(() => {});
    l.refused('a bad frame');
    expect(l.refusedInRow).toBe(1);
    const part = l.assigned(2, 8);
    expect(l.accepted('gradients of step 2')).toBe(true);
    await expect(part).resolves.toBe('gradients of step 2');
    expect(l.state).toBe('idle');
    expect(l.owed).toBeUndefined();
    expect(l.refusedInRow).toBe(0);
  });

  it('refused: computing → idle, its part of the step ends at once and the step is marked abandoned', async () => {
    const { l, taken } = lifeIn('idle');
    const part = l.assigned(3, 8);
    expect(l.refused('SHAPE_MISMATCH')).toBe(false);
    await expect(part).rejects.toThrow(/worker w1 sent a refused frame \(SHAPE_MISMATCH\) during step 3/);
    expect(l.state).toBe('idle');
    expect(l.abandonedStep).toBe(3);
    expect(taken.map((t) => t.transition)).toEqual(['assigned', 'refused']);
  });

  it('evicted after maxRefusedInRow refusals in a row, with the reason', () => {
    const { l, taken } = lifeIn('idle');
    expect(l.refused('one')).toBe(false);
    expect(l.refused('two')).toBe(false);
    expect(l.refused('three')).toBe(true);
    expect(l.state).toBe('gone');
    expect(l.wasEvicted).toBe(true);
    expect(l.goneReason).toBe('3 frames refused in a row, the last: three');
    expect(taken.map((t) => t.transition).at(-1)).toBe('evicted');
  });

  it('evicted: any live state → gone, failing the step it owed', async () => {
    const { l } = lifeIn('idle');
    const part = l.assigned(9, 8);
    expect(l.evicted('by test')).toBe(true);
    await expect(part).rejects.toThrow(/evicted \(by test\) during step 9/);
    expect(l.state).toBe('gone');
  });

  it('timedOut: computing → idle for the owed step only', async () => {
    const { l } = lifeIn('idle');
    const part = l.assigned(4, 8);
    expect(l.timedOut(3, 'old timer')).toBe(false);
    expect(l.state).toBe('computing');
    expect(l.timedOut(4, 'no gradients within 1 s')).toBe(true);
    await expect(part).rejects.toThrow(/no gradients within 1 s during step 4/);
    expect(l.abandonedStep).toBe(4);
  });

  it('stalled: computing → stalled, its part of the step goes to the others', async () => {
    const { l } = lifeIn('idle');
    const part = l.assigned(6, 8);
    expect(l.stalled('no heartbeat for 31 s')).toBe(true);
    await expect(part).rejects.toThrow(/stalled \(no heartbeat for 31 s\) during step 6/);
    expect(l.state).toBe('stalled');
    expect(l.isActive).toBe(false);
  });

  it('rejoined: stalled → idle', () => {
    const { l } = lifeIn('stalled');
    expect(l.rejoined('answers again')).toBe(true);
    expect(l.state).toBe('idle');
  });

  it('left: any live state → gone with its reason, and final', () => {
    const { l } = lifeIn('standby');
    expect(l.left('said bye')).toBe(true);
    expect(l.state).toBe('gone');
    expect(l.goneReason).toBe('said bye');
    expect(l.wasEvicted).toBe(false);
    expect(l.joined(1)).toBe(false);
    expect(l.state).toBe('gone');
  });

  it('a late accept after the part was lost settles nothing and changes nothing', () => {
    const { l } = lifeIn('idle');
    void l.assigned(1, 8).catch(() => {});
    l.stalled('silent');
    expect(l.accepted('late gradients')).toBe(false);
    expect(l.state).toBe('stalled');
  });

  it('weights sent to a gone worker do not change what it is said to hold', () => {
    const { l } = lifeIn('idle');
    l.sentWeights(3);
    l.left('closed');
    l.sentWeights(4);
    expect(l.weightsVersion).toBe(3);
  });

  describe('every transition is taken from exactly the states its table row names', () => {
    const take: Record<Transition, (l: WorkerLife<string>) => boolean> = {
      joined: (l) => l.joined(0),
      stoodBy: (l) => l.stoodBy(),
      promoted: (l) => l.promoted(0),
      assigned: (l) => {
        const before = l.state;
        void l.assigned(1, 1).catch(() => {});
        return l.state !== before;
      },
      accepted: (l) => l.accepted('g'),
      refused: (l) => {
        const before = l.state;
        l.refused('x');
        return l.state !== before;
      },
      timedOut: (l) => l.timedOut(1, 'timeout'),
      stalled: (l) => l.stalled('silent'),
      rejoined: (l) => l.rejoined('back'),
      left: (l) => l.left('bye'),
      evicted: (l) => l.evicted('bad'),
    };
    for (const [transition, rule] of Object.entries(TRANSITIONS) as [Transition, (typeof TRANSITIONS)[Transition]][]) {
      it(`${transition}: ${rule.from.join('|')} → ${rule.to}`, () => {
        for (const state of ALL_STATES) {
          const { l } = lifeIn(state);
          const moved = take[transition](l);
          expect({ state, moved }).toEqual({ state, moved: rule.from.includes(state) });
          expect(l.state).toBe(moved ? rule.to : state);
        }
      });
    }
  });
});
