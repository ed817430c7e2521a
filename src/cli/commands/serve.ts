// `dsdc-dist serve --checkpoint DIR`: a page to draw digits on, classified live in the browser.
import type { Argv } from 'yargs';
import { initBackend } from '../../backend/index.js';
import { createLogger, type LogLevel } from '../../log/logger.js';
import { LOG_LEVEL_OPTION } from '../trainingFlags.js';
import { DEFAULT_HOST, DEFAULT_PORT, startServer } from '../../serve/server.js';
import { printResult, stopSignal } from '../output.js';

export const serveCommand = {
  command: 'serve',
  describe: 'serve a page where you draw a digit and see the model (running in the browser) classify it live',
  builder: (y: Argv) =>
    y
      .option('checkpoint', { type: 'string', demandOption: true, describe: 'checkpoint dir, or a run dir (its newest valid checkpoint)' })
      .option('port', { type: 'number', default: DEFAULT_PORT, describe: 'TCP port (0: any free one)' })
      .option('host', { type: 'string', default: DEFAULT_HOST, describe: 'address to listen on (0.0.0.0: every interface)' })
      .option('json', { type: 'boolean', default: false, describe: 'print {url, checkpoint} as one JSON line once listening' })
      .option('log-level', LOG_LEVEL_OPTION)
      .example('$0 serve --checkpoint runs/local --port 8080', 'then open http://127.0.0.1:8080/ and draw a digit')
      .example('$0 serve --checkpoint runs/local/checkpoints/best --host 0.0.0.0', 'the best epoch of a --save-best run, on every interface'),
  handler: async (args: { checkpoint: string; port: number; host: string; json: boolean; logLevel: LogLevel }) => {
    const log = createLogger('serve', args.logLevel);
    // Node only reads the checkpoint (no inference here), so the plain cpu backend is enough.
    await initBackend('cpu');
    const running = await startServer({ checkpoint: args.checkpoint, port: args.port, host: args.host, log: (m) => log.warn(m) });
    printResult(args.json, { url: running.url, checkpoint: running.checkpointDir }, `serving ${running.url} (model from ${running.checkpointDir}); Ctrl-C stops`);
    const stop = stopSignal((signal) => log.info(`${signal}: stopping`));
    await new Promise((resolve) => stop.addEventListener('abort', resolve));
    await running.close();
  },
};
