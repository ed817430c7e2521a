// Learning-rate schedules as pure functions of the global step.

import type { ScheduleKind } from '../../schemas/runConfig.js';

export { SCHEDULE_KINDS, type ScheduleKind } from '../../schemas/runConfig.js';

export interface ScheduleOptions {
  kind: ScheduleKind;
  baseRate: number;
  totalSteps: number;
  /** Linear warm-up from baseRate/warmupSteps; 0 for none. */
  warmupSteps: number;
}

export function learningRateAt(step: number, options: ScheduleOptions): number {
  const { kind, baseRate, totalSteps, warmupSteps } = options;
  if (warmupSteps > 0 && step < warmupSteps) return (baseRate * (step + 1)) / warmupSteps;
  if (kind === 'constant') return baseRate;
  const span = Math.max(1, totalSteps - warmupSteps);
  const progress = Math.min(1, Math.max(0, (step - warmupSteps) / span));
  return 0.5 * baseRate * (1 + Math.cos(Math.PI * progress));
}
