// `dsdc-dist report RUN_DIR`: one self-contained HTML report of a run (and PNG/SVG figures).
import { dirname, join } from 'node:path';
import type { Argv } from 'yargs';
import { initBackend, type BackendChoice } from '../../backend/index.js';
import { createLogger, type LogLevel } from '../../log/logger.js';
import { buildReport, DEFAULT_WORST_COUNT, FIGURES_DIR, REPORT_FILE } from '../../report/buildReport.js';
import { printResult } from '../output.js';
import { withCommonFlags } from '../trainingFlags.js';
import { UsageError } from '../usageError.js';

interface ReportArgs {
  runDir: string;
  out?: string;
  checkpoint?: string;
  testLimit?: number;
  worst: number;
  png: boolean;
  svg: boolean;
  dataDir?: string;
  backend: BackendChoice;
  json: boolean;
  logLevel: LogLevel;
}

export const reportCommand = {
  command: 'report <run-dir>',
  describe: 'write one self-contained HTML report of a run: curves, confusion matrix, per-class metrics, worst mistakes, config',
  builder: (y: Argv) =>
    withCommonFlags(y)
      .positional('run-dir', { type: 'string', demandOption: true, describe: 'the run directory (holds metrics.jsonl and checkpoints/)' })
      .option('out', { type: 'string', describe: `HTML file to write (default RUN_DIR/${REPORT_FILE})` })
      .option('checkpoint', { type: 'string', describe: 'checkpoint dir to evaluate (default: the run\'s newest valid one)' })
      .option('test-limit', { type: 'number', describe: 'evaluate on the first N test images (default: as the run did; 0: all)' })
      .option('worst', { type: 'number', default: DEFAULT_WORST_COUNT, describe: 'how many of the most confident mistakes to show' })
      .option('png', { type: 'boolean', default: false, describe: `also write one PNG per figure into ${FIGURES_DIR}/ beside the HTML file (needs Chromium)` })
      .option('svg', { type: 'boolean', default: false, describe: `also write one vector SVG per figure into ${FIGURES_DIR}/ beside the HTML file (needs Chromium)` })
      .example('$0 report runs/local', 'write runs/local/report.html')
      .example('$0 report runs/local --test-limit 200 --png --out paper/report.html', 'a quicker evaluation, and PNG figures beside the page')
      .check((args) => {
        if (!Number.isInteger(args.worst) || (args.worst as number) < 0) throw new UsageError(`--worst must be a non-negative integer, got ${args.worst}`);
        if (args.testLimit !== undefined && (!Number.isInteger(args.testLimit) || (args.testLimit as number) < 0)) throw new UsageError(`--test-limit must be a non-negative integer, got ${args.testLimit}`);
        return true;
      }),
  handler: async (args: ReportArgs) => {
    const log = createLogger('report', args.logLevel);
    const backend = await initBackend(args.backend, (m) => log.debug(m));
    const out = args.out ?? join(args.runDir, REPORT_FILE);
    const result = await buildReport({
      runDir: args.runDir,
      out,
      checkpoint: args.checkpoint,
      dataDir: args.dataDir,
      testLimit: args.testLimit,
      worstCount: args.worst,
      figuresDir: join(dirname(out), FIGURES_DIR),
      figureFormats: [...(args.png ? ['png' as const] : []), ...(args.svg ? ['svg' as const] : [])],
      backend: backend.backend,
      log: (m) => log.info(m),
      warn: (m) => log.warn(m),
    });
    const summary = {
      report: result.html,
      pngs: result.pngs,
      svgs: result.svgs,
      checkpoint: result.checkpoint,
      examples: result.examples,
      test_accuracy: result.testAccuracy,
      final_loss: result.finalLoss,
    };
    printResult(args.json, summary, [`report: ${result.html}`, ...[...result.pngs, ...result.svgs].map((p) => `figure: ${p}`)].join('\n'));
  },
};
