// `dsdc-dist worker --standalone`: one process trains with the same replica code a distributed
// worker runs, and applies Adam locally.
import { initBackend, type BackendChoice } from '../backend/index.js';
import { splitExamples } from '../data/examples.js';
import type { Logger } from '../log/logger.js';
import type { TrainConfig } from '../training/setup/config.js';
import { LocalGradientSource } from '../training/loop/localSource.js';
import { ProgressReporter, type ProgressMode } from '../training/loop/progress.js';
import { Replica } from '../training/replica/replica.js';
import { prepareRun, sessionInputs } from '../training/setup/runSetup.js';
import { runSession, type SessionResult } from '../training/loop/session.js';
import { buildSummary, type RunSummary } from '../training/loop/summary.js';

export interface StandaloneOptions {
  config: TrainConfig;
  runDir: string;
  resume: boolean;
  backend: BackendChoice;
  log: Logger;
  progress: ProgressMode;
  stop?: AbortSignal;
  checkpointRetryMs?: number;
  /** The flags the user typed (a resume reports the ones it ignores). */
  givenFlags?: ReadonlySet<string>;
  /** The resolved settings, written to <runDir>/config.yaml. */
  settings?: string;
  /** Weights of a new run (a fine-tune run's, from its checkpoint); absent: seeded ones. */
  initialWeights?: Map<string, Float32Array>;
}

export async function runStandalone(o: StandaloneOptions): Promise<{ summary: RunSummary; result: SessionResult }> {
  const backend = await initBackend(o.backend, (m) => o.log.debug(m));
  const run = await prepareRun(o.config, o.runDir, o.resume, o.log, o.initialWeights, o.givenFlags, o.settings);
  const replica = new Replica(run.config.model, splitExamples(run.train), run.config.augmentShift, run.config.frozenLayers);
  replica.setWeights(run.state.weights);
  try {
    const result = await runSession({
      ...sessionInputs(run, o.runDir),
      source: new LocalGradientSource(replica),
      log: o.log,
      progress: new ProgressReporter(o.progress),
      where: `1 process on ${backend.backend} (${backend.device})`,
      stop: o.stop,
      checkpointRetryMs: o.checkpointRetryMs,
    });
    const summary = buildSummary(result, { backend: backend.backend, device: backend.device, workers: 1, runDir: o.runDir });
    return { summary, result };
  } finally {
    replica.dispose();
    run.localModel.dispose();
  }
}
