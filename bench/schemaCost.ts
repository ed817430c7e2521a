// What the schema checks cost: microseconds per state.json and per metrics.jsonl step record,
// the TypeBox-compiled check against the hand-written one it replaced (state.json: an integer
// step plus the flag checks of the config; a step record: its `type` only, then a cast).
// Run: node --import tsx bench/schemaCost.ts
import { SCHEDULE_KINDS } from '../src/schemas/runConfig.js';
import { stepLineValidator } from '../src/schemas/metricsRecord.js';
import { validateModelSpec } from '../src/model/spec.js';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../src/training/setup/config.js';
import { readRunState } from '../src/training/setup/runState.js';

const ITERATIONS = 200_000;
const ROUNDS = 5;

/** The check before the schemas (src/training/config.ts at a2e945d), for comparison only. */
function handWrittenTrainConfigCheck(config: TrainConfig): void {
  const check = (ok: boolean, flag: string) => {
    if (!ok) throw new Error(`--${flag}`);
  };
  const positiveInt = (v: number) => Number.isInteger(v) && v > 0;
  const nonNegativeInt = (v: number) => Number.isInteger(v) && v >= 0;
  check(positiveInt(config.epochs), 'epochs');
  check(positiveInt(config.batchSize), 'batch-size');
  check(Number.isFinite(config.learningRate) && config.learningRate > 0, 'lr');
  check((SCHEDULE_KINDS as readonly string[]).includes(config.schedule), 'schedule');
  check(nonNegativeInt(config.warmupSteps), 'warmup-steps');
  check(Number.isInteger(config.seed), 'seed');
  check(nonNegativeInt(config.maxSteps), 'max-steps');
  check(nonNegativeInt(config.augmentShift) && config.augmentShift <= 4, 'augment');
  check(nonNegativeInt(config.trainLimit), 'train-limit');
  check(nonNegativeInt(config.testLimit), 'test-limit');
  check(positiveInt(config.checkpointEvery), 'checkpoint-every');
  validateModelSpec(config.model);
}

function microseconds(label: string, work: () => void): number {
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < ITERATIONS; i++) work();
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1000 / ITERATIONS);
  }
  console.log(`${label.padEnd(52)} ${best.toFixed(3)} µs`);
  return best;
}

const state = JSON.parse(
  JSON.stringify({ step: 40, position: { epoch: 1, stepInEpoch: 10, globalStep: 40 }, adamStep: 40, weightsVersion: 40, config: DEFAULT_TRAIN_CONFIG }),
);
const stepLine = JSON.parse(
  '{"time":"2026-11-25T11:40:51.151Z","type":"step","step":40,"total_steps":40,"epoch":1,"loss":1.0741,"accuracy":0.8125,"lr":0.0000046,"images_per_s":82.4,"bytes":592186,"workers":2,"examples":64,"timings_ms":{"compute":392.1,"encode":0.05,"transfer":17.3,"wait_for_slowest":152.3,"aggregate":23.3,"apply":0.31,"broadcast":3.77,"total":513.4}}',
);

microseconds('state.json, hand-written (step + config flags + spec)', () => {
  if (!Number.isSafeInteger(state.step)) throw new Error('step');
  handWrittenTrainConfigCheck(state.config);
});
microseconds('state.json, TypeBox compiled + spec bounds', () => readRunState(state, '/run/checkpoints/step-40'));
microseconds('metrics step record, hand-written (type only)', () => {
  if (stepLine.type !== 'step') throw new Error('type');
});
microseconds('metrics step record, TypeBox compiled', () => {
  if (stepLineValidator.problem(stepLine)) throw new Error('step line');
});
