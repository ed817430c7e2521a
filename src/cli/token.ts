// Where the shared secret comes from: --token-file, else $DSDC_TOKEN.
import { readFileSync } from 'node:fs';
import { UsageError } from './usageError.js';

export const TOKEN_ENV = 'DSDC_TOKEN';

export function readToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (tokenFile) {
    let text: string;
    try {
      text = readFileSync(tokenFile, 'utf8').trim();
    } catch (error) {
      throw new UsageError(`--token-file ${tokenFile}: cannot read it (${(error as Error).message})`);
    }
    if (text.length === 0) throw new UsageError(`--token-file ${tokenFile}: the file is empty`);
    return text;
  }
  const fromEnv = env[TOKEN_ENV]?.trim();
  return fromEnv ? fromEnv : undefined;
}
