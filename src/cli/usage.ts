// A command line that does not parse gets one line, not the help: what is wrong, the closest
// known flag or command when it looks like a typo, and where the help is; exit status 2.
import { closestName } from './didYouMean.js';
import { UsageError } from './usageError.js';

export const PROGRAM = 'dsdc-dist';

/** The pointer at the help that ends every usage line: the command's, or the program's. */
export function helpHint(command: string | undefined): string {
  return `See '${PROGRAM}${command ? ` ${command}` : ''} --help'.`;
}

/** One line from a usage message (yargs' can span several), ending with the help hint. */
export function usageLine(message: string, command: string | undefined): string {
  const text = message.replace(/\s*\n\s*/g, ' ').trim();
  if (text.endsWith(helpHint(command))) return text;
  return `${text}${/[.!?]$/.test(text) ? '' : '.'} ${helpHint(command)}`;
}

interface ParsedLine {
  /** The command words yargs matched (empty when none did). */
  commands: string[];
  /** Positional words yargs left over, the command words first. */
  positionals: unknown[];
  /** Every long option the command knows, aliases included, dashed. */
  known: readonly string[];
  /** The words of the command line after the program. */
  words: readonly string[];
}

/** The long flags of `words` as typed (`--lr=1` → `lr`, `--batchSize` → `batch-size`), up to `--`. */
function typedFlags(words: readonly string[]): string[] {
  const flags: string[] = [];
  for (const word of words) {
    if (word === '--') break;
    const match = /^--([^=]+)/.exec(word);
    if (match) flags.push(match[1].replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`));
  }
  return flags;
}

/**
 * Throws the usage error of an unknown command, or of flags and positional words the command
 * does not take, each with the closest known name when there is one.
 */
export function refuseUnknownWords(line: ParsedLine, commandNames: readonly string[]): void {
  const [first] = line.positionals;
  if (line.commands.length === 0 && first !== undefined) {
    const suggestion = closestName(String(first), commandNames);
    throw new UsageError(`Unknown command: ${String(first)}.${suggestion ? ` Did you mean ${suggestion}?` : ''} ${helpHint(undefined)}`);
  }
  if (line.commands.length === 0) return;
  const known = new Set(line.known);
  const unknown: Array<{ word: string; suggestion?: string }> = [];
  for (const flag of typedFlags(line.words)) {
    const plain = flag.startsWith('no-') && known.has(flag.slice(3)) ? flag.slice(3) : flag;
    if (known.has(plain)) continue;
    const suggestion = closestName(plain, known);
    unknown.push({ word: `--${flag}`, ...(suggestion ? { suggestion: `--${suggestion}` } : {}) });
  }
  for (const word of line.positionals.slice(line.commands.length)) unknown.push({ word: String(word) });
  if (unknown.length === 0) return;
  const hint = helpHint(line.commands.join(' '));
  if (unknown.length === 1) {
    const [{ word, suggestion }] = unknown;
    throw new UsageError(`Unknown argument: ${word}.${suggestion ? ` Did you mean ${suggestion}?` : ''} ${hint}`);
  }
  const listed = unknown.map(({ word, suggestion }) => (suggestion ? `${word} (did you mean ${suggestion}?)` : word));
  throw new UsageError(`Unknown arguments: ${listed.join(', ')}. ${hint}`);
}
