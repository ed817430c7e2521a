// Server-Sent Events at /events: the live feed of the dashboard. A new client gets the run's
// status and its step history first, then every new step record as it happens, the status
// again every STATUS_INTERVAL_MS (worker states change between steps) and, when the run
// ends, one `end` event after which the stream closes (so the HTTP server can close too).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FINAL_PHASES, type RunPhase, type RunStatus } from '../status.js';

export const STATUS_INTERVAL_MS = 1_000;
/** Clients beyond this are refused with 503: each one costs a timer tick and a copy of every record. */
export const MAX_EVENT_CLIENTS = 32;
/** Streams one address may hold, so that one client cannot take every slot from the operator. */
export const MAX_EVENT_CLIENTS_PER_ADDRESS = 4;
/** A client whose unsent data grows past this is too slow to follow the run and is dropped. */
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** How long a browser waits before reconnecting after the stream breaks. */
export const RECONNECT_DELAY_MS = 2_000;

export type RunEventName = 'status' | 'history' | 'step' | 'end';

/** One SSE frame: `event:` line, one `data:` line (JSON has no raw newlines), blank line. */
export function formatEvent(name: RunEventName, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

export class RunEventStream {
  private readonly clients = new Set<ServerResponse>();
  private readonly perAddress = new Map<string, number>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly status: RunStatus) {
    status.on('step', (record) => this.broadcast(formatEvent('step', record)));
    status.on('phase', (phase) => this.onPhase(phase));
    // The status carries the epoch records: the page's test and validation figures.
    status.on('epoch', () => this.broadcast(formatEvent('status', this.status)));
  }

  get clientCount(): number {
    return this.clients.size;
  }

  handle(request: IncomingMessage, response: ServerResponse): void {
    if (this.clients.size >= MAX_EVENT_CLIENTS) {
      response.writeHead(503, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: `too many dashboard clients (${MAX_EVENT_CLIENTS}); close a tab and retry` }));
      return;
    }
    const address = request.socket.remoteAddress ?? 'unknown';
    const held = this.perAddress.get(address) ?? 0;
    if (held >= MAX_EVENT_CLIENTS_PER_ADDRESS) {
      response.writeHead(429, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: `${address} already holds ${held} event streams (at most ${MAX_EVENT_CLIENTS_PER_ADDRESS}); close a tab and retry` }));
      return;
    }
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    response.write(`retry: ${RECONNECT_DELAY_MS}\n\n`);
    response.write(formatEvent('status', this.status));
    response.write(formatEvent('history', this.status.history.all()));
    if (FINAL_PHASES.includes(this.status.phase)) {
      response.end(formatEvent('end', { phase: this.status.phase }));
      return;
    }
    this.clients.add(response);
    this.perAddress.set(address, held + 1);
    let forgotten = false;
    const forget = () => {
      if (forgotten) return;
      forgotten = true;
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
      this.remove(response);
    };
    request.on('close', forget);
    response.on('error', forget);
    this.timer ??= setInterval(() => this.broadcast(formatEvent('status', this.status)), STATUS_INTERVAL_MS).unref();
  }

  /** Ends every stream, e.g. before the HTTP server closes. */
  close(): void {
    for (const client of this.clients) client.end();
    this.clients.clear();
    this.stopTimer();
  }

  private onPhase(phase: RunPhase): void {
    this.broadcast(formatEvent('status', this.status));
    if (!FINAL_PHASES.includes(phase)) return;
    this.broadcast(formatEvent('end', { phase }));
    this.close();
  }

  private broadcast(frame: string): void {
    for (const client of this.clients) {
      if (client.writableLength > MAX_BUFFERED_BYTES) {
        client.destroy();
        this.remove(client);
        continue;
      }
      client.write(frame);
    }
  }

  private remove(client: ServerResponse): void {
    this.clients.delete(client);
    if (this.clients.size === 0) this.stopTimer();
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
