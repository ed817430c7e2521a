// The one line a run prints before its first step: what runs where. Pure, so that its wording is
// tested; the standalone worker and the coordinator fill in their own `where`.
import type { RunPlan } from './plan.js';

export interface RunStartFacts {
  plan: RunPlan;
  batchSize: number;
  fromStep: number;
  /** Who computes: `1 process on wasm (…)`, `2 workers on wasm`. */
  where: string;
  /** The dataset's name and the images used. */
  data: { name: string; train: number; test: number };
  runDir: string;
  /** The live dashboard's address (distributed runs). */
  dashboard?: string;
}

export function formatStartLine(f: RunStartFacts): string {
  const steps = f.fromStep > 0 ? `steps ${f.fromStep + 1}-${f.plan.totalSteps}` : `${f.plan.totalSteps} steps`;
  const parts = [
    `training ${steps} (${f.plan.perEpoch} per epoch, batch ${f.batchSize}) on ${f.where}`,
    `data ${f.data.name}: ${f.data.train} train / ${f.data.test} test images`,
    `run dir ${f.runDir}`,
    ...(f.dashboard ? [`dashboard ${f.dashboard}`] : []),
  ];
  return parts.join(' · ');
}
