// `dsdc-dist finetune --from CHECKPOINT --freeze SPEC`: continues training a checkpoint on a task
// (a class subset, another MNIST-format dataset) with some layers frozen, at a low learning rate.
// Standalone (--standalone), with --workers N local worker processes, or as a coordinator that
// waits for N workers started elsewhere (--no-launch-workers: pm2, other machines).
import type { Argv } from 'yargs';
import { createLogger } from '../../log/logger.js';
import { quietCpuBanner } from '../../backend/index.js';
import { DEFAULT_FINETUNE_LEARNING_RATE, DEFAULT_FREEZE_SPEC, DEFAULT_NEW_HEAD_LEARNING_RATE, prepareFinetune } from '../../training/setup/finetune.js';
import { parseFreezeSpec } from '../../training/replica/freeze.js';
import { formatSummary } from '../../training/loop/summary.js';
import { runStandalone } from '../../worker/standalone.js';
import { printResult, stopSignal } from '../output.js';
import { givenSettings, printConfigOr, settingsYaml } from '../settings.js';
import { defaultRunDir, trainConfigFromArgs } from '../trainingFlags.js';
import { coordinate, coordinateWithLocalWorkers, withDistributedFlags, type DistributedArgs, type RunStart } from './distributed.js';

interface FinetuneArgs extends DistributedArgs {
  from: string;
  freeze: string;
  newHead: boolean;
  headLr?: number;
  standalone: boolean;
  launchWorkers: boolean;
}

export const DEFAULT_FINETUNE_EPOCHS = 3;

export const finetuneCommand = {
  command: 'finetune',
  describe: 'fine-tune a checkpoint: freeze layers, train the rest at a low rate; only unfrozen weights cross the wire',
  builder: (y: Argv) =>
    withDistributedFlags(y, 0)
      .option('from', { type: 'string', demandOption: true, describe: 'checkpoint dir, or a run dir (its newest valid checkpoint), to start from' })
      .option('freeze', {
        type: 'string',
        default: DEFAULT_FREEZE_SPEC,
        describe: "layers to keep fixed: 'all-but-last:K' (a conv and its batch norm count as one), names 'stem_conv,sdc1', a pattern 'sdc*' or '/regex/', or 'none'",
      })
      .option('head-lr', {
        type: 'number',
        describe: `peak learning rate of the head, on the same schedule as --lr (default: ${DEFAULT_NEW_HEAD_LEARNING_RATE} for a new head, which starts at zero; --lr for a kept one)`,
      })
      .option('new-head', { type: 'boolean', default: false, describe: 'start a new classification head even when the class count is unchanged (automatic when it changes)' })
      .option('standalone', { type: 'boolean', default: false, describe: 'fine-tune in this process alone (no coordinator, no workers)' })
      .option('launch-workers', { type: 'boolean', default: true, describe: 'start --workers N local worker processes (--no-launch-workers: wait for workers started elsewhere, e.g. by pm2)' })
      // The architecture (batch norm and its momentum included) is the checkpoint's.
      .hide('batch-norm')
      .hide('stem-filters')
      .hide('widths')
      .hide('dilations')
      .hide('pool-after')
      .default('learning-rate', DEFAULT_FINETUNE_LEARNING_RATE)
      .default('epochs', DEFAULT_FINETUNE_EPOCHS)
      .example('$0 finetune --from runs/digits04 --classes 5-9 --freeze all-but-last:2 --workers 2', 'a model of 0-4 fine-tuned on 5-9 with a new head')
      .example('$0 finetune --from runs/local --data-dir /usr/share/datasets/fashion-mnist --new-head --freeze all-but-last:1 --standalone', 'MNIST to Fashion-MNIST in one process, training the head only')
      .check((args) => {
        parseFreezeSpec(String(args.freeze));
        return true;
      }),
  handler: printConfigOr(async (args: FinetuneArgs) => {
    const log = createLogger(args.standalone ? 'finetune' : 'coordinator', args.logLevel);
    quietCpuBanner();
    const prepared = await prepareFinetune({ from: args.from, freeze: args.freeze, newHead: args.newHead, headLearningRate: args.headLr, config: trainConfigFromArgs(args) }, log);
    const start: RunStart = { config: prepared.config, initialWeights: prepared.initialWeights };
    if (args.standalone) {
      const runDir = args.runDir ?? defaultRunDir();
      const stop = stopSignal((s) => log.warn(`${s}: finishing the current step, writing a checkpoint, then exiting`));
      const { summary, result } = await runStandalone({ ...start, runDir, resume: args.resume, backend: args.backend, log, progress: args.progress, stop, checkpointRetryMs: args.checkpointRetry * 1000, givenFlags: givenSettings(args), settings: settingsYaml(args) });
      printResult(args.json, summary, formatSummary(summary, result));
      return;
    }
    if (!args.launchWorkers) {
      await coordinate(args, undefined, { start });
      return;
    }
    await coordinateWithLocalWorkers(args, log, start);
  }),
};
