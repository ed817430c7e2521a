// One host's delay line: a python3 process in the hub namespace that owns two TAP devices and
// carries frames between them with the host's delay, jitter and loss (see delayline.py). Its
// stdin is the control channel; its end (this process exiting, however) stops it and with it
// removes both TAPs.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NetLabError } from './commands.js';
import type { LinkShape } from './shaping.js';

const SCRIPT = fileURLToPath(new URL('./delayline.py', import.meta.url));
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 3_000;

export function pythonPath(): string | undefined {
  for (const candidate of ['/usr/bin/python3', '/usr/local/bin/python3']) if (existsSync(candidate)) return candidate;
  return undefined;
}

export class DelayLine {
  private lines: string[] = [];
  private waiters: ((line: string) => void)[] = [];

  private constructor(private readonly child: ChildProcess) {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        const waiter = this.waiters.shift();
        if (waiter) waiter(line);
        else this.lines.push(line);
      }
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Starts the delay line in `hub`, making TAPs `hostTap` and `bridgeTap` there. */
  static async start(hub: string, hostTap: string, bridgeTap: string, seed: number): Promise<DelayLine> {
    const python = pythonPath();
    if (!python) throw new NetLabError('NETLAB_UNSUPPORTED', 'netlab needs python3 (/usr/bin/python3) for its delay line on a kernel without sch_netem');
    const child = spawn('ip', ['netns', 'exec', hub, python, SCRIPT, hostTap, bridgeTap, String(seed)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const line = new DelayLine(child);
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new NetLabError('NETLAB_COMMAND', `netlab delay line ${hostTap}/${bridgeTap} exited (${code}) before it was ready: ${stderr.trim()}`))),
    );
    await Promise.race([line.expect('ready', READY_TIMEOUT_MS), exited]);
    return line;
  }

  async set(shape: LinkShape): Promise<void> {
    const spec = { delayMs: shape.delayMs ?? 0, jitterMs: shape.jitterMs ?? 0, lossPercent: shape.lossPercent ?? 0 };
    this.child.stdin!.write(`${JSON.stringify(spec)}\n`);
    await this.expect('ok', READY_TIMEOUT_MS);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  /** For the exit handler: no waiting. */
  stopNow(): void {
    this.child.kill('SIGKILL');
  }

  private expect(wanted: string, timeoutMs: number): Promise<void> {
    const next = this.lines.length > 0 ? Promise.resolve(this.lines.shift()!) : new Promise<string>((resolve) => this.waiters.push(resolve));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new NetLabError('NETLAB_COMMAND', `netlab delay line did not answer "${wanted}" within ${timeoutMs} ms`)), timeoutMs);
      next.then((line) => {
        clearTimeout(timer);
        if (line === wanted) resolve();
        else reject(new NetLabError('NETLAB_COMMAND', `netlab delay line answered "${line}", expected "${wanted}"`));
      });
    });
  }
}
