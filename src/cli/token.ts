// Where the shared secret comes from: --token-file, else $DSDC_TOKEN; for a coordinator given
// neither, a fresh random one kept in its run directory (mode 0600) for the workers on this
// machine to read. Off loopback a token must hold at least MIN_TOKEN_BITS bits.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CodedError } from '../errors/codedError.js';

export const TOKEN_ENV = 'DSDC_TOKEN';
/** The file, inside the run directory, holding the token a coordinator made itself. */
export const RUN_TOKEN_FILE = 'token';
export const MIN_TOKEN_BITS = 128;
/** Random bytes in a token we make: 192 bits, written as 48 hex digits. */
const GENERATED_TOKEN_BYTES = 24;
const OWNER_ONLY = 0o600;
export const MAKE_A_TOKEN = 'make one with `openssl rand -hex 24 > token && chmod 600 token` and pass --token-file token (or DSDC_TOKEN=$(openssl rand -hex 24))';
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export class TokenError extends CodedError<'TOKEN_FILE_UNREADABLE' | 'TOKEN_FILE_EMPTY' | 'TOKEN_TOO_WEAK' | 'NO_TOKEN'> {}

export function readToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (tokenFile) {
    let text: string;
    try {
      text = readFileSync(tokenFile, 'utf8').trim();
    } catch (error) {
      throw new TokenError('TOKEN_FILE_UNREADABLE', `--token-file ${tokenFile}: cannot read it (${(error as Error).message})`);
    }
    if (text.length === 0) throw new TokenError('TOKEN_FILE_EMPTY', `--token-file ${tokenFile}: the file is empty`);
    return text;
  }
  const fromEnv = env[TOKEN_ENV]?.trim();
  return fromEnv ? fromEnv : undefined;
}

export function randomToken(): string {
  return randomBytes(GENERATED_TOKEN_BYTES).toString('hex');
}

/**
 * A generous estimate of the secret bits in a token: 4 per character of a hex string, 6 per
 * character of base64-like text, 6.5 per character otherwise (printable ASCII). A word like
 * `secret` scores far below the minimum either way.
 */
export function tokenBits(token: string): number {
  if (/^[0-9a-f]+$/i.test(token)) return 4 * token.length;
  if (/^[A-Za-z0-9+/=_-]+$/.test(token)) return 6 * token.length;
  return 6.5 * token.length;
}

/** Refuses a guessable token where others can reach the coordinator. */
export function checkTokenStrength(token: string, host: string, source: string): void {
  if (LOOPBACK.has(host)) return;
  const bits = tokenBits(token);
  if (bits < MIN_TOKEN_BITS) {
    throw new TokenError(
      'TOKEN_TOO_WEAK',
      `${source} holds about ${Math.floor(bits)} bits, and on ${host} a token needs at least ${MIN_TOKEN_BITS}: anyone who can reach the port could guess it; ${MAKE_A_TOKEN}`,
    );
  }
}

export interface CoordinatorToken {
  token: string;
  /** Where it came from, for the log: the flag, the variable, or the file we wrote. */
  source: string;
  /** Set when we made it: the file the local workers read. */
  file?: string;
}

/**
 * The coordinator's token: --token-file or $DSDC_TOKEN when given, else the run directory's own
 * (made on the first start, kept across restarts so that pm2's workers and resumed runs agree).
 */
export function coordinatorToken(tokenFile: string | undefined, runDir: string, host: string, env: NodeJS.ProcessEnv = process.env): CoordinatorToken {
  const given = readToken(tokenFile, env);
  if (given !== undefined) {
    const source = tokenFile ? `--token-file ${tokenFile}` : `$${TOKEN_ENV}`;
    checkTokenStrength(given, host, source);
    return { token: given, source };
  }
  const file = join(runDir, RUN_TOKEN_FILE);
  return { token: ensureTokenFile(file), source: file, file };
}

/** The token in `file`, made (random, mode 0600) when the file does not exist yet. */
export function ensureTokenFile(file: string): string {
  if (existsSync(file)) {
    const existing = readToken(file);
    if (existing !== undefined) {
      chmodSync(file, OWNER_ONLY);
      return existing;
    }
  }
  mkdirSync(join(file, '..'), { recursive: true });
  const token = randomToken();
  writeFileSync(file, `${token}\n`, { mode: OWNER_ONLY });
  chmodSync(file, OWNER_ONLY);
  return token;
}

/** A worker's token: it cannot join without one. */
export function workerToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const token = readToken(tokenFile, env);
  if (token === undefined) {
    throw new TokenError(
      'NO_TOKEN',
      `no token: pass --token-file (a coordinator started without one wrote it to <its run directory>/${RUN_TOKEN_FILE}) or set $${TOKEN_ENV}`,
    );
  }
  return token;
}
