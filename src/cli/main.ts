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
import { refuseUnknownWords, usageLine } from './usage.js';
import { UsageError, USAGE_EXIT_CODE } from './usageError.js';

const COMMANDS = [trainCommand, coordinatorCommand, workerCommand, relayCommand, finetuneCommand, evaluateCommand, reportCommand, predictCommand, serveCommand];
const COMMAND_NAMES = COMMANDS.map((c) => c.command.split(' ')[0]);
const words = hideBin(process.argv);

interface ParserView {
  getOptions(): { key: Record<string, unknown> };
  getInternalMethods(): { getContext(): { commands: string[] } };
}

const cli = yargs(words)
  .scriptName('dsdc-dist')
  .usage('$0 <command> [options]\n\nDistributed data-parallel training of DSDC-Net on MNIST with TensorFlow.js.');
for (const command of COMMANDS) cli.command(command as never);
/** How a failed command ends: a usage mistake as one line with exit 2, anything else as `dsdc-dist: message [CODE]`. */
function exitOnFailure(error: Error | undefined, message: string | undefined, help: () => string): never {
  const command = COMMAND_NAMES.includes(words[0]) ? words[0] : undefined;
  if (error && !(error instanceof UsageError && error.exitCode === USAGE_EXIT_CODE && !alreadyLogged(error))) {
    if (!alreadyLogged(error)) process.stderr.write(`dsdc-dist: ${describeError(error)}\n`);
    if (process.env.DSDC_DEBUG) process.stderr.write(`${error.stack}\n`);
    process.exit(exitCodeOf(error));
  }
  // Nothing typed at all: the overview is the answer.
  if (words.length === 0) process.stderr.write(`${help()}\n\n`);
  process.stderr.write(`${usageLine(error?.message ?? message ?? '', command)}\n`);
  process.exit(USAGE_EXIT_CODE);
}

try {
  await cli
    .demandCommand(1, `name a command: ${COMMAND_NAMES.join(', ')}`)
    .strict()
    .middleware(
      ((argv: { _: unknown[] }, y: ParserView) =>
        refuseUnknownWords({ commands: y.getInternalMethods().getContext().commands, positionals: argv._, known: Object.keys(y.getOptions().key), words }, COMMAND_NAMES)) as never,
      true,
    )
    .check((argv, options) => refuseRepeatedFlags(argv, options as never), true)
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .fail((message, error, y) => exitOnFailure(error, message, () => String(y.help())))
    .parseAsync();
} catch (error) {
  // Middleware (the unknown-word check, the settings' sources) throws past yargs' fail handler.
  exitOnFailure(error instanceof Error ? error : new Error(String(error)), undefined, () => '');
}
