// A minimal Server-Sent Events client for tests: reads /events over fetch and hands out the
// events in order, each wait bounded by a timeout.

export interface ServerEvent {
  event: string;
  data: unknown;
}

export class EventStreamClient {
  private readonly events: ServerEvent[] = [];
  private readonly waiting: Array<() => void> = [];
  private buffer = '';
  /** Resolves when the server ends the stream (or close() aborts it). */
  readonly ended: Promise<void>;
  readonly status: number;

  private constructor(
    response: Response,
    private readonly controller: AbortController,
  ) {
    this.status = response.status;
    this.ended = this.pump(response);
  }

  static async open(url: string): Promise<EventStreamClient> {
    const controller = new AbortController();
    const response = await fetch(url, { signal: controller.signal });
    return new EventStreamClient(response, controller);
  }

  /** The next event (optionally of a given name, skipping others), or an error after timeoutMs. */
  async next(name?: string, timeoutMs = 5_000): Promise<ServerEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.events.findIndex((e) => !name || e.event === name);
      if (index >= 0) return this.events.splice(0, index + 1).pop()!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${name ?? ''} event within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiting.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.controller.abort();
  }

  private async pump(response: Response): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body!) {
        this.buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let end: number;
        while ((end = this.buffer.indexOf('\n\n')) >= 0) {
          const frame = this.buffer.slice(0, end);
          this.buffer = this.buffer.slice(end + 2);
          const fields = Object.fromEntries(frame.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trimStart()]));
          if (fields.event) this.events.push({ event: fields.event, data: JSON.parse(fields.data) });
        }
        this.waiting.splice(0).forEach((wake) => wake());
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    } finally {
      this.waiting.splice(0).forEach((wake) => wake());
    }
  }
}
