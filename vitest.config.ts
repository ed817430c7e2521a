import { defineConfig } from 'vitest/config';

// The suite in lanes of one file at a time. `npm test` (tools/testLanes.ts) runs the lane of
// `processes` beside the lane of `waiting` then `unit`, as two vitests: vitest itself puts every
// one-file-at-a-time project in one queue, so `npx vitest run` runs all three one after another.
// - processes: the tests that start real CLI processes (coordinator, workers, relays) and
//   compute with them. One at a time, since two would contend for this project's 2-core machines.
// - waiting: tests that spend most of their time waiting on the clock (partitions, heartbeat
//   and silence timeouts, checkpoint retries, restarts, connect timeouts, pm2's daemon,
//   signals), in network namespaces or on loopback; they share the cores with the processes
//   lane without starving it. The two lanes take about as long each (5-7 minutes here).
// - unit: everything else, in-process (kernels, protocol, schemas, math, in-process servers).
// A new test file that starts CLI processes belongs in one of the first two lists.
const WAITING = [
  'test/netlab/**/*.test.ts',
  'test/deploy/kubernetesWiring.test.ts',
  'test/reliability/coordinatorSilence.test.ts',
  'test/reliability/workerFaults.test.ts',
  'test/reliability/storageFaults.test.ts',
  'test/reliability/pm2CheckpointFailure.test.ts',
  'test/reliability/signals.test.ts',
  'test/reliability/wireAttacks.test.ts',
  'test/reliability/coordinatorFaults.test.ts',
  'test/reliability/localLauncher.test.ts',
  'test/reliability/userMistakes.test.ts',
  'test/integration/pm2.test.ts',
  'test/finetune/pm2.test.ts',
];
const PROCESSES = [
  'test/integration/**/*.test.ts',
  'test/reliability/**/*.test.ts',
  'test/cli/settings.test.ts',
  'test/cli/usage.test.ts',
  'test/cli/relayFlags.test.ts',
  'test/finetune/finetune.test.ts',
  'test/finetune/wire.test.ts',
  'test/inference/drawPage.test.ts',
  'test/inference/predictCli.test.ts',
  'test/observability/liveRun.test.ts',
  'test/observability/prometheus.test.ts',
  'test/backend/webgpuCli.test.ts',
  'test/bench/gpuBundle.test.ts',
  'test/ops/relaxedSimd.test.ts',
  'test/tensorboard/runEvents.test.ts',
  'test/training/setup/resumeState.test.ts',
  'test/deploy/pid1Signals.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'processes', include: PROCESSES, exclude: WAITING, fileParallelism: false } },
      { extends: true, test: { name: 'waiting', include: WAITING, fileParallelism: false } },
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [...PROCESSES, ...WAITING], fileParallelism: false } },
    ],
  },
});
