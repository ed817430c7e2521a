import { defineConfig } from 'vitest/config';

// The real-process tests run one file at a time: run together they would contend for this
// project's 2-core machines. The network-namespace tests (netlab scenarios, the Kubernetes
// wiring) spend most of their time waiting on partitions, timeouts and shaped links, in
// namespaces of their own, so those few files run two at a time.
const NETWORK_TESTS = ['test/netlab/**/*.test.ts', 'test/deploy/kubernetesWiring.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'processes', include: ['test/**/*.test.ts'], exclude: NETWORK_TESTS, fileParallelism: false } },
      { extends: true, test: { name: 'network', include: NETWORK_TESTS } },
    ],
  },
});
