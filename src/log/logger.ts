// One line per event on stderr, with a timestamp, a level and the component (coordinator,
// `worker <id>`, launcher, …) on every line, so that pm2 logs and interleaved processes stay
// readable and greppable. `--log-level` sets the lowest level written.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export interface Logger {
  /** The lowest level this logger writes. */
  readonly level: LogLevel;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** Whether a message at this level would be written. */
  enabled(at: LogLevel): boolean;
  child(component: string): Logger;
}

export function createLogger(component: string, level: LogLevel = 'info', write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const enabled = (at: LogLevel) => LOG_LEVELS.indexOf(at) >= threshold;
  const emit = (at: LogLevel, message: string) => {
    if (!enabled(at)) return;
    write(`${new Date().toISOString()} ${at.toUpperCase().padEnd(5)} [${component}] ${message}\n`);
  };
  return {
    level,
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
    enabled,
    child: (sub) => createLogger(`${component}/${sub}`, level, write),
  };
}
