// dsdc-dist's command line: each command parses its flags, calls one function and prints.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { coordinatorCommand, trainCommand } from './commands/distributed.js';
import { evaluateCommand } from './commands/evaluate.js';
import { finetuneCommand } from './commands/finetune.js';
import { reportCommand } from './commands/report.js';
import { predictCommand } from './commands/predict.js';
import { serveCommand } from './commands/serve.js';
import { workerCommand } from './commands/worker.js';
import { isCodedError } from '../errors/codedError.js';
import { alreadyLogged } from './output.js';
import { refuseRepeatedFlags } from './repeatedFlags.js';

await yargs(hideBin(process.argv))
  .scriptName('dsdc-dist')
  .usage('$0 <command> [options]\n\nDistributed data-parallel training of DSDC-Net on MNIST with TensorFlow.js.')
  .command(trainCommand as never)
  .command(coordinatorCommand as never)
  .command(workerCommand as never)
  .command(finetuneCommand as never)
  .command(evaluateCommand as never)
  .command(reportCommand as never)
  .command(predictCommand as never)
  .command(serveCommand as never)
  .demandCommand(1, 'name a command: worker, train, coordinator, finetune, evaluate')
  .strict()
  .check((argv, options) => refuseRepeatedFlags(argv, options as never), true)
  .wrap(Math.min(110, process.stdout.columns ?? 110))
  .fail((message, error, y) => {
    if (error) {
      if (!alreadyLogged(error)) process.stderr.write(`dsdc-dist: ${error.message}\n`);
      if (process.env.DSDC_DEBUG) process.stderr.write(`${error.stack}\n`);
    } else {
      process.stderr.write(`${y.help()}\n\ndsdc-dist: ${message}\n`);
    }
    // A coded error says which exit code its failure means (a checkpoint that cannot be written
    // is not a usage mistake, and supervisors act on the difference).
    process.exit(error && isCodedError(error) ? error.exitCode : 1);
  })
  .parseAsync();
