// A flag that takes one value but was given several times is an error. yargs would otherwise
// hand the command an array ('--log-level warn --log-level info' → ['warn', 'info']), which
// passes its checks and then breaks far away (a worker launched with '--log-level warn,info').
import { UsageError } from './usageError.js';

interface ParsedOptions {
  /** Keys declared `array: true` (they may repeat). */
  array: string[];
}

export function refuseRepeatedFlags(argv: Record<string, unknown>, options: ParsedOptions): true {
  for (const [key, value] of Object.entries(argv)) {
    // Skip yargs' own keys and the camelCase copies it adds of dashed flags.
    if (key === '_' || key === '$0' || /[A-Z]/.test(key) || !Array.isArray(value)) continue;
    if (options.array.includes(key)) continue;
    const values = value.map((v) => `'${String(v)}'`).join(', ');
    throw new UsageError(`--${key} was given ${value.length} times (${values}); give it once`);
  }
  return true;
}
