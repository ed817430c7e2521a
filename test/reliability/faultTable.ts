// The fault table of docs/reliability.md: the same run (2 workers, 8000 images, 150 steps of 64)
// undisturbed and under each fault, with real processes on 127.0.0.1, one after the other.
//   node --import tsx test/reliability/faultTable.ts [scenario …]   (prints a Markdown table)
// Takes a quarter of an hour on two busy cores; not part of `npm test`.
import { readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/cli.js';
import { CliProcess, START_TIMEOUT_MS, freePort, stepRecords, waitForStep, workerArgs } from './harness.js';
import { RogueWorker } from './rogueWorker.js';

const STEPS = 150;
const RUN_FLAGS = ['--backend', 'wasm', '--train-limit', '8000', '--test-limit', '2000', '--batch-size', '64', '--bn-momentum', '0.9', '--max-steps', String(STEPS), '--checkpoint-every', '25', '--heartbeat-timeout', '5', '--log-level', 'info', '--json'];
const RUN_TIMEOUT_MS = 900_000;
const TOKEN = 'fault-table';

interface Outcome {
  scenario: string;
  did: string;
  steps: number;
  accuracy: number;
  wallS: number;
  notes: string;
}

class Run {
  readonly port: Promise<number> = freePort();
  readonly dir = tempDir('fault-table');
  readonly processes: CliProcess[] = [];
  readonly started = Date.now();

  /** A coordinator waiting for `expected` workers (default: those named), and the named workers. */
  async start(workerIds: string[], extra: string[] = [], expected = workerIds.length): Promise<CliProcess> {
    const c = await this.coordinator(extra, expected);
    for (const id of workerIds) await this.worker(id);
    return c;
  }

  async coordinator(extra: string[] = [], workers = 2): Promise<CliProcess> {
    const port = await this.port;
    // A flag in `extra` replaces the same flag (and its value) of RUN_FLAGS.
    const replaced = new Set(extra.filter((f) => f.startsWith('--')));
    const base: string[] = [];
    for (let i = 0; i < RUN_FLAGS.length; i++) {
      if (!replaced.has(RUN_FLAGS[i])) base.push(RUN_FLAGS[i]);
      else if (RUN_FLAGS[i + 1] !== undefined && !RUN_FLAGS[i + 1].startsWith('--')) i++;
    }
    const c = this.spawn('coordinator', ['coordinator', ...base, '--workers', String(workers), '--port', String(port), '--run-dir', this.dir, ...extra]);
    await c.waitForLine(/listening on ws:/, START_TIMEOUT_MS);
    return c;
  }

  async worker(id: string): Promise<CliProcess> {
    return this.spawn(`worker ${id}`, workerArgs(await this.port, id));
  }

  spawn(name: string, args: string[]): CliProcess {
    const p = new CliProcess(name, args, { DSDC_TOKEN: TOKEN });
    this.processes.push(p);
    return p;
  }

  /** Trains with workers a and b until step n, then kills the coordinator (SIGKILL) and waits for it to go. */
  async killCoordinatorAt(n: number): Promise<void> {
    const first = await this.start(['a', 'b']);
    await this.step(n);
    first.signal('SIGKILL');
    await first.exited;
  }

  step(n: number) {
    return waitForStep(this.dir, n, RUN_TIMEOUT_MS);
  }

  async finish(c: CliProcess, scenario: string, did = ''): Promise<Outcome> {
    const code = await c.exit(RUN_TIMEOUT_MS);
    const summary = code === 0 ? c.summary() : {};
    const records = stepRecords(this.dir);
    const dropped = c.linesMatching(/dropped worker/).length;
    const distinct = new Set(records.map((r) => r.step)).size;
    for (const p of this.processes) p.stop();
    return {
      scenario,
      did,
      steps: Number(summary.steps ?? distinct),
      accuracy: Number(summary.test_accuracy ?? NaN),
      wallS: (Date.now() - this.started) / 1000,
      notes: `exit ${code}; ${dropped} part(s) dropped; ${records.length} step records for ${distinct} steps`,
    };
  }
}

const scenarios: Record<string, () => Promise<Outcome>> = {
  async undisturbed() {
    const run = new Run();
    const c = await run.start(['a', 'b']);
    return run.finish(c, 'none (undisturbed)', '-');
  },

  /** The reference for 'rogue-nan': three honest workers (smaller parts change batch norm's batch statistics). */
  async 'undisturbed-3'() {
    const run = new Run();
    const c = await run.start(['a', 'b', 'c']);
    return run.finish(c, 'none, 3 honest workers (reference for the next row)', '-');
  },

  /** The other reference for 'rogue-nan': two workers and a global batch of 43, the two thirds of 64 it applies. */
  async 'undisturbed-43'() {
    const run = new Run();
    const c = await run.start(['a', 'b'], ['--batch-size', '43']);
    return run.finish(c, 'none, 2 workers, global batch 43 (reference for the NaN row)', '-');
  },

  async 'worker-sigkill'() {
    const run = new Run();
    const c = await run.start(['a']);
    const b = await run.worker('b');
    await run.step(40);
    b.signal('SIGKILL');
    const noticed = Date.now();
    await c.waitForLine(/worker b disconnected/, 30_000);
    const noticeMs = Date.now() - noticed;
    await run.step(60);
    await run.worker('b');
    await c.waitForLine(/worker b joined .* again/, START_TIMEOUT_MS);
    const outcome = await run.finish(c, 'worker SIGKILL at step 40, restarted at step 60');
    outcome.did = `noticed in ${noticeMs} ms (socket closed); step finished with the survivor, reweighted; ${outcome.notes.split(';')[1].trim()}; rejoined with current weights`;
    return outcome;
  },

  async 'worker-sigstop'() {
    const run = new Run();
    const c = await run.start(['a']);
    const b = await run.worker('b');
    await run.step(40);
    b.signal('SIGSTOP');
    const stalled = await c.waitForLine(/worker b .* missed its heartbeats for ([\d.]+) s/, 60_000);
    await run.step(60);
    b.signal('SIGCONT');
    await c.waitForLine(/worker b answers again/, 60_000);
    const late = await c.waitForLine(/refused gradients from worker b for step (\d+): late/, 60_000);
    const outcome = await run.finish(c, 'worker SIGSTOP at step 40, SIGCONT at step 60');
    outcome.did = `stalled after ${stalled[1]} s without heartbeat (timeout 5 s); survivor went on alone; on wake its late gradients for step ${late[1]} refused, full weights resent, rejoined`;
    return outcome;
  },

  async 'coordinator-sigkill'() {
    const run = new Run();
    await run.killCoordinatorAt(85);
    const second = await run.coordinator(['--resume']);
    const resumed = await second.waitForLine(/resuming from .* at step (\d+)/, START_TIMEOUT_MS);
    await second.waitForLine(/worker b joined/, 60_000);
    await second.waitForLine(/worker a joined/, 60_000);
    const outcome = await run.finish(second, 'coordinator SIGKILL at step 85, restarted with --resume');
    outcome.did = `resumed from the step-${resumed[1]} checkpoint (same data order, Adam state); both workers reconnected by backoff, no manual step`;
    return outcome;
  },

  async 'corrupt-checkpoint'() {
    const run = new Run();
    await run.killCoordinatorAt(110);
    const root = join(run.dir, 'checkpoints');
    const newest = readdirSync(root).filter((n) => n.startsWith('step-')).sort().pop()!;
    const weights = join(root, newest, 'weights.bin');
    truncateSync(weights, Math.floor(statSync(weights).size / 2));
    const second = await run.coordinator(['--resume']);
    const resumed = await second.waitForLine(/resuming from .* at step (\d+)/, START_TIMEOUT_MS);
    const outcome = await run.finish(second, `coordinator SIGKILL at step 110, newest checkpoint (${newest}) half-written`);
    outcome.did = `checksum mismatch detected, warning logged, resumed from the previous checkpoint (step ${resumed[1]})`;
    return outcome;
  },

  async 'coordinator-sigterm'() {
    const run = new Run();
    const first = await run.start(['a', 'b']);
    await run.step(70);
    first.signal('SIGTERM');
    await first.exit(120_000);
    const stoppedAt = first.summary().steps;
    const second = await run.start(['a', 'b'], ['--resume']);
    const outcome = await run.finish(second, 'coordinator SIGTERM (pm2 stop) at step 70, started again with --resume');
    outcome.did = `finished the step, checkpointed at step ${stoppedAt}, said bye (workers exited 75, run stopped); resumed there`;
    return outcome;
  },

  async 'rogue-nan'() {
    const run = new Run();
    const c = await run.start(['a', 'b'], [], 3);
    const rogue = await RogueWorker.connect(`ws://127.0.0.1:${await run.port}`, { token: TOKEN });
    let answered = 0;
    const answerAll = async () => {
      for (;;) {
        const step = await rogue.nextStep(RUN_TIMEOUT_MS).catch(() => undefined);
        if (!step) return;
        const g = rogue.gradientsFor(step);
        const first = g.gradients[0];
        g.gradients[0] = { ...first, data: new Uint8Array(new Float32Array(first.data.byteLength / 4).fill(Number.NaN).buffer) };
        rogue.send(g);
        answered++;
      }
    };
    void answerAll();
    const outcome = await run.finish(c, 'a third "worker" answering every step with NaN gradients (--on-nan skip)');
    rogue.close();
    const evicted = c.linesMatching(/evicted worker rogue/).length > 0;
    outcome.did = `${answered} NaN answers refused and logged${evicted ? ', then the rogue evicted (--max-refused-frames)' : ''}; each step applied the honest parts, reweighted`;
    return outcome;
  },
};

const chosen = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(scenarios);
const outcomes: Outcome[] = [];
for (const name of chosen) {
  process.stderr.write(`--- ${name}\n`);
  const outcome = await scenarios[name]();
  outcomes.push(outcome);
  process.stderr.write(`${JSON.stringify(outcome)}\n`);
}
const baseline = outcomes.find((o) => o.scenario.startsWith('none'))?.accuracy;
const table = [
  '| fault or bad input | what the system did | steps completed | test accuracy (vs undisturbed) | wall time |',
  '|---|---|---|---|---|',
  ...outcomes.map((o) => {
    const delta = baseline !== undefined && o.accuracy === o.accuracy ? ` (${o.accuracy >= baseline ? '+' : ''}${(100 * (o.accuracy - baseline)).toFixed(1)} pt)` : '';
    return `| ${o.scenario} | ${o.did} | ${o.steps}/${STEPS} | ${(100 * o.accuracy).toFixed(2)}%${delta} | ${o.wallS.toFixed(0)} s |`;
  }),
].join('\n');
// Exit once the table is written (a scripted peer may still wait for a step that will not come);
// on platforms where writes to a pipe are asynchronous, an immediate exit could lose them.
process.stdout.write(`${table}\n`, () => process.exit(0));
