// `npm run netlab -- …`: a training run across network namespaces on this machine (root), with the
// coordinator's link shaped; also whether labs work here, and removing what dead labs left.
import { randomBytes } from 'node:crypto';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { describeError } from '../../src/errors/codedError.js';
import { DEFAULT_PREFIX, NetLab, netlabImpairment, netlabSupport, sweepStale } from './index.js';
import { checkShape, type LinkShape } from './shaping.js';
import { runTrainingInLab } from './trainingRun.js';

const COORDINATOR = 'coordinator';

async function train(argv: { workers: number; port: number; rttMs: number; jitterMs: number; lossPercent: number; rateMbit?: number; _: (string | number)[] }): Promise<number> {
  const shape: LinkShape = { delayMs: argv.rttMs / 2, jitterMs: argv.jitterMs, lossPercent: argv.lossPercent, ...(argv.rateMbit === undefined ? {} : { rateMbit: argv.rateMbit }) };
  checkShape(shape, 'netlab train (--rtt-ms, --jitter-ms, --loss-percent, --rate-mbit)');
  const trainingFlags = argv._.slice(1).map(String);
  const lab = await NetLab.create();
  try {
    await lab.addHost(COORDINATOR, { shape });
    const workers = Array.from({ length: argv.workers }, (_, i) => `w${i}`);
    for (const worker of workers) await lab.addHost(worker);
    process.stderr.write(`netlab: ${COORDINATOR} ${lab.host(COORDINATOR).address} (${JSON.stringify(shape)}; delay and loss by ${netlabImpairment()}), workers ${workers.join(', ')}\n`);
    const result = await runTrainingInLab(lab, {
      coordinatorHost: COORDINATOR,
      workerHosts: workers,
      port: argv.port,
      token: randomBytes(24).toString('hex'),
      coordinatorFlags: trainingFlags,
      workerFlags: trainingFlags.includes('--backend') ? ['--backend', trainingFlags[trainingFlags.indexOf('--backend') + 1]] : [],
      onLine: (host, line) => (host === COORDINATOR && line.startsWith('{') ? process.stdout.write(`${line}\n`) : process.stderr.write(`[${host}] ${line}\n`)),
    });
    return result.coordinatorCode ?? 1;
  } finally {
    await lab.destroy();
  }
}

async function main(): Promise<void> {
  await yargs(hideBin(process.argv))
    .scriptName('netlab')
    .command(
      'train',
      'a coordinator and N workers, each in its own network namespace, training with the flags after --',
      (y) =>
        y
          .option('workers', { type: 'number', default: 2, describe: 'worker namespaces (w0, w1, …)' })
          .option('port', { type: 'number', default: 7070, describe: "the coordinator's port" })
          .option('rtt-ms', { type: 'number', default: 0, describe: "round-trip time added by the coordinator's link (half each way)" })
          .option('jitter-ms', { type: 'number', default: 0, describe: 'each frame’s delay varies by up to ± this, each way' })
          .option('loss-percent', { type: 'number', default: 0, describe: 'frames dropped at random, each way' })
          .option('rate-mbit', { type: 'number', describe: "bandwidth of the coordinator's link, each way (default: not limited)" })
          .example('$0 train --workers 2 --rtt-ms 20 --rate-mbit 100 -- --backend wasm --train-limit 512 --max-steps 20 --no-eval --json', ''),
      async (argv) => {
        process.exitCode = await train(argv);
      },
    )
    .command('support', 'whether labs can be made here, and how delay and loss are made', {}, () => {
      const support = netlabSupport();
      process.stdout.write(support.ok ? `netlab works here (delay and loss: ${netlabImpairment()})\n` : `netlab cannot run here: ${support.reason}\n`);
      if (!support.ok) process.exitCode = 1;
    })
    .command(
      'sweep',
      'remove the namespaces and /etc/netns entries of labs whose process has ended',
      (y) => y.option('prefix', { type: 'string', default: DEFAULT_PREFIX, describe: 'the name prefix of the labs' }),
      async (argv) => {
        const removed = await sweepStale(argv.prefix, () => false);
        process.stdout.write(removed.length ? `removed ${removed.join(', ')}\n` : 'nothing to remove\n');
      },
    )
    .demandCommand(1, 'name a command: train, support or sweep')
    .strict()
    .fail((message, error) => {
      process.stderr.write(`netlab: ${error ? describeError(error) : message}\n`);
      process.exit(error && 'exitCode' in error && typeof error.exitCode === 'number' ? error.exitCode : 2);
    })
    .parseAsync();
}

main().catch((error) => {
  process.stderr.write(`${describeError(error)}\n`);
  process.exit(1);
});
