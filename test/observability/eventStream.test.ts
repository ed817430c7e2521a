// /events on a real HTTP server: history first, then live steps, then `end` when the run is
// over, and the server forgets clients that go away (so it can close).
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RunEventStream } from '../../src/coordinator/dashboard/eventStream.js';
import { handleHttp } from '../../src/coordinator/httpEndpoints.js';
import { RunStatus } from '../../src/coordinator/status.js';
import type { StepRecord } from '../../src/training/loop/session.js';
import { EventStreamClient } from './sse.js';
import { waitFor } from './waitFor.js';

const record = (step: number): StepRecord => ({
  type: 'step',
  step,
  total_steps: 100,
  epoch: 1,
  loss: 2 / step,
  accuracy: step / 100,
  lr: 1e-3,
  images_per_s: 50,
  bytes: 1000,
  workers: 2,
  timings_ms: { compute: 10, total: 12 },
});

describe('the dashboard event stream', () => {
  let server: Server | undefined;
  const clients: EventStreamClient[] = [];
  afterEach(async () => {
    clients.splice(0).forEach((c) => c.close());
    server?.closeAllConnections();
    if (server) await new Promise((resolve) => server!.close(resolve));
    server = undefined;
  });

  async function serve(status: RunStatus): Promise<string> {
    server = createServer(handleHttp(status));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async function connect(url: string): Promise<EventStreamClient> {
    const client = await EventStreamClient.open(`${url}/events`);
    clients.push(client);
    return client;
  }

  it('sends the status and the history so far, then each new step', async () => {
    const status = new RunStatus('run-1', 2);
    for (let step = 1; step <= 3; step++) status.recordStep(record(step));
    const client = await connect(await serve(status));
    expect(client.status).toBe(200);
    expect((await client.next()).event).toBe('status');
    const history = await client.next();
    expect(history.event).toBe('history');
    expect((history.data as StepRecord[]).map((r) => r.step)).toEqual([1, 2, 3]);
    status.recordStep(record(4));
    expect((await client.next('step')).data).toEqual(record(4));
  });

  it('sends the status again at an epoch\'s end, with its test and validation accuracy', async () => {
    const status = new RunStatus('run-1', 2);
    status.recordStep(record(1));
    const client = await connect(await serve(status));
    await client.next('history');
    status.recordEpoch({ type: 'epoch', epoch: 1, loss: 1.5, train_accuracy: 0.5, test_accuracy: 0.625, val_loss: 1.25, val_accuracy: 0.75 });
    // A periodic status sent before the epoch ended may come first.
    let data: unknown;
    do data = (await client.next('status')).data;
    while ((data as { epochs: unknown[] }).epochs.length === 0);
    expect(data).toMatchObject({ test_accuracy: 0.625, val_accuracy: 0.75, val_loss: 1.25, epochs: [{ epoch: 1, test_accuracy: 0.625 }] });
  });

  it('ends the stream when the run finishes, so the server can close', async () => {
    const status = new RunStatus('run-1', 2);
    const client = await connect(await serve(status));
    await client.next('history');
    status.phase = 'finished';
    expect((await client.next('end')).data).toEqual({ phase: 'finished' });
    await client.ended;
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
  });

  it('forgets a client that disconnects', async () => {
    const status = new RunStatus('run-1', 2);
    const events = new RunEventStream(status);
    server = createServer((request, response) => events.handle(request, response));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = await connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    await client.next('history');
    expect(events.clientCount).toBe(1);
    client.close();
    await waitFor(() => events.clientCount === 0, 5_000, 'the server to forget the closed stream');
    status.recordStep(record(1));
  });
});
