// `npm test` after tsc: runs the suite's lanes (vitest.config.ts) side by side, one vitest per
// lane, each lane one file at a time. Vitest itself runs every one-file-at-a-time project in a
// single queue, so the tests that mostly wait on the clock would otherwise queue behind the ones
// that compute. Arguments go to both vitests (`npm test -- test/cli` runs what matches in each).
// Lines are passed through whole, as each vitest prints them; the exit status is the worst of the two.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Each lane: the vitest projects it runs, in order. The names are the projects of vitest.config.ts. */
export const LANES: readonly (readonly string[])[] = [['processes'], ['waiting', 'unit']];

const VITEST = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));

interface LaneResult {
  projects: readonly string[];
  code: number;
  seconds: number;
}

function runLane(projects: readonly string[], args: string[]): { child: ChildProcess; done: Promise<LaneResult> } {
  const started = Date.now();
  const projectArgs = projects.flatMap((p) => ['--project', p]);
  const child = spawn(process.execPath, [VITEST, 'run', ...projectArgs, '--passWithNoTests', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? (process.stdout.isTTY ? '1' : '0') },
  });
  createInterface({ input: child.stdout! }).on('line', (line) => process.stdout.write(`${line}\n`));
  createInterface({ input: child.stderr! }).on('line', (line) => process.stderr.write(`${line}\n`));
  const done = new Promise<LaneResult>((resolve) => {
    child.on('exit', (code, signal) => resolve({ projects, code: code ?? (signal ? 128 + 15 : 1), seconds: (Date.now() - started) / 1000 }));
    child.on('error', (error) => {
      process.stderr.write(`test lanes: cannot start vitest for ${projects.join(' + ')}: ${error.message}\n`);
      resolve({ projects, code: 1, seconds: 0 });
    });
  });
  return { child, done };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const lanes = LANES.map((projects) => runLane(projects, args));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => lanes.forEach(({ child }) => child.kill(signal)));
  }
  const results = await Promise.all(lanes.map((l) => l.done));
  process.stdout.write('\n');
  for (const r of results) {
    process.stdout.write(`lane ${r.projects.join(' + ')}: ${r.code === 0 ? 'passed' : `failed (exit ${r.code})`} in ${r.seconds.toFixed(0)} s\n`);
  }
  process.exitCode = results.reduce((worst, r) => Math.max(worst, r.code), 0);
}

await main();
