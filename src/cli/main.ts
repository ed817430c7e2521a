// dsdc-dist's command line: each command parses its flags, calls one function and prints.
// A failure is printed one way for every command (describeError) and ends with its exitCode.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { coordinatorCommand, trainCommand } from './commands/distributed.js';
import { evaluateCommand } from './commands/evaluate.js';
import { finetuneCommand } from './commands/finetune.js';
import { reportCommand } from './commands/report.js';
import { predictCommand } from './commands/predict.js';
import { relayCommand } from './commands/relay.js';
import { serveCommand } from './commands/serve.js';
import { workerCommand } from './commands/worker.js';
import { describeError } from '../errors/codedError.js';
import { alreadyLogged, exitCodeOf } from './output.js';
import { refuseRepeatedFlags } from './repeatedFlags.js';

/** A command line that does not parse: the same code as any failure, as before. */
const USAGE_EXIT_CODE = 1;

await yargs(hideBin(process.argv))
  .scriptName('dsdc-dist')
  .usage('$0 <command> [options]\n\nDistributed data-parallel training of DSDC-Net on MNIST with TensorFlow.js.')
  .command(trainCommand as never)
  .command(coordinatorCommand as never)
  .command(workerCommand as never)
  .command(relayCommand as never)
  .command(finetuneCommand as never)
  .command(evaluateCommand as never)
  .command(reportCommand as never)
  .command(predictCommand as never)
  .command(serveCommand as never)
  .demandCommand(1, 'name a command: train, coordinator, worker, relay, finetune, evaluate, report, predict, serve')
  .strict()
  .check((argv, options) => refuseRepeatedFlags(argv, options as never), true)
  .wrap(Math.min(110, process.stdout.columns ?? 110))
  .fail((message, error, y) => {
    if (error) {
      if (!alreadyLogged(error)) process.stderr.write(`dsdc-dist: ${describeError(error)}\n`);
      if (process.env.DSDC_DEBUG) process.stderr.write(`${error.stack}\n`);
      process.exit(exitCodeOf(error));
    }
    process.stderr.write(`${y.help()}\n\ndsdc-dist: ${message}\n`);
    process.exit(USAGE_EXIT_CODE);
  })
  .parseAsync();
