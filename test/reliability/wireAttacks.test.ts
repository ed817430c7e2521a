// The attacks of issue 14 on the wire, each against a real coordinator process on 127.0.0.1:
// foreign pages and rebinding names, token holders taking over the run, floods of
// unauthenticated connections, refused frames, and the HTTP side off loopback.
import { once } from 'node:events';
import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { CloseCode, encodeMessage, PROTOCOL_VERSION, type Message, type WelcomeMessage } from '../../src/protocol/index.js';
import { chromiumAvailable, chromiumPath, launchChromium } from '../../src/report/browser.js';
import { tempDir } from '../helpers/cli.js';
import { CliProcess, START_TIMEOUT_MS, coordinatorArgs, freePort, workerArgs } from './harness.js';
import { RogueWorker } from './rogueWorker.js';
import { waitFor } from '../observability/waitFor.js';

const TOKEN = 'wire-attacks-test-token-0123456789abcdef';
const ENV = { DSDC_TOKEN: TOKEN };
const EVENT_TIMEOUT_MS = 15_000;
const NO_CHROMIUM = `skipped: no Chromium at ${chromiumPath()} (Debian: apt-get install chromium; .ci/run installs it)`;

/** How a WebSocket upgrade ends: 'open', or the HTTP status it was refused with. */
function upgrade(url: string, options: { headers?: Record<string, string>; localAddress?: string } = {}): Promise<'open' | number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options);
    socket.once('open', () => {
      socket.terminate();
      resolve('open');
    });
    socket.once('unexpected-response', (_req, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('error', (error) => reject(error));
  });
}

/** A GET with exactly these headers (fetch does not let a test set Host). */
function get(port: number, path: string, headers: Record<string, string> = {}, localAddress?: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress, headers: { host: `127.0.0.1:${port}`, ...headers } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (d) => (body += d));
      // An event stream never ends: its first bytes are enough.
      if (response.headers['content-type']?.startsWith('text/event-stream')) {
        resolve({ status: response.statusCode ?? 0, body: '', headers: response.headers });
        return;
      }
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body, headers: response.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A raw socket that completed the upgrade and sends nothing (a pending handshake). */
async function silentSocket(url: string, localAddress: string): Promise<WebSocket> {
  const socket = new WebSocket(url, { localAddress });
  socket.on('error', () => {});
  await once(socket, 'open');
  return socket;
}

function closedWith(socket: WebSocket, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socket not closed within ${timeoutMs} ms`)), timeoutMs);
    socket.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

const isWelcome = (m: Message): m is WelcomeMessage => m.type === 'welcome';

describe('attacks on the wire, against a real coordinator on 127.0.0.1 (--workers 2, nobody computing)', () => {
  let coordinator: CliProcess;
  let port: number;
  let url: string;
  const rogues: RogueWorker[] = [];
  const sockets: WebSocket[] = [];
  beforeAll(async () => {
    port = await freePort();
    url = `ws://127.0.0.1:${port}`;
    // Two workers expected and none of the honest ones started: the run waits, and every attack meets the handshake.
    coordinator = new CliProcess('coordinator', coordinatorArgs(port, tempDir('wire-attacks'), 2, ['--max-steps', '1', '--no-eval', '--max-pending-handshakes', '3', '--allowed-host', 'trainer.lan']), ENV);
    await coordinator.waitForLine(/listening on ws:/, START_TIMEOUT_MS);
  }, START_TIMEOUT_MS + 10_000);
  afterEach(() => {
    rogues.splice(0).forEach((r) => r.close());
    sockets.splice(0).forEach((s) => s.terminate());
  });
  afterAll(() => coordinator.stop());
  /** The coordinator has let go of every earlier test's connection (they close asynchronously). */
  const noPendingHandshakes = () =>
    waitFor(async () => (JSON.parse((await get(port, '/metrics')).body).pending_handshakes === 0 ? true : undefined), EVENT_TIMEOUT_MS, 'no pending handshakes');

  it('refuses a WebSocket upgrade from a foreign page (Origin https://attacker.example) with 403, before any frame', async () => {
    expect(await upgrade(url, { headers: { origin: 'https://attacker.example' }, localAddress: '127.0.0.3' })).toBe(403);
    await coordinator.waitForLine(/refused a WebSocket upgrade from 127\.0\.0\.3:\d+: Origin 'https:\/\/attacker\.example' is not this coordinator's page/, EVENT_TIMEOUT_MS);
  });

  it('refuses an upgrade from its own name on another port, and one with Origin null', async () => {
    expect(await upgrade(url, { headers: { origin: `http://127.0.0.1:${port + 1}` }, localAddress: '127.0.0.3' })).toBe(403);
    expect(await upgrade(url, { headers: { origin: 'null' }, localAddress: '127.0.0.3' })).toBe(403);
  });

  it("accepts an upgrade from the coordinator's own page and from Node (no Origin)", async () => {
    expect(await upgrade(url, { headers: { origin: `http://127.0.0.1:${port}` }, localAddress: '127.0.0.4' })).toBe('open');
    expect(await upgrade(url, { localAddress: '127.0.0.4' })).toBe('open');
  });

  it('refuses an upgrade whose Host is a rebinding name (attacker.example), 403', async () => {
    expect(await upgrade(url, { headers: { host: `attacker.example:${port}` }, localAddress: '127.0.0.3' })).toBe(403);
  });

  it('refuses HTTP requests whose Host is not a served name (DNS rebinding reads nothing): 421 on /metrics, /healthz and /', async () => {
    for (const path of ['/metrics', '/healthz', '/']) {
      const response = await get(port, path, { host: `attacker.example:${port}` });
      expect(response.status, path).toBe(421);
      expect(response.body).not.toMatch(/run_id|workers/);
    }
  });

  it('serves a name given with --allowed-host, and the loopback names', async () => {
    expect((await get(port, '/healthz', { host: `trainer.lan:${port}` })).status).toBe(200);
    expect((await get(port, '/healthz', { host: `localhost:${port}` })).status).toBe(200);
    expect((await get(port, '/healthz', { host: `[::1]:${port}` })).status).toBe(200);
  });

  it('on loopback the HTTP endpoints need no token', async () => {
    expect((await get(port, '/metrics')).status).toBe(200);
  });

  it('holds at most --max-pending-handshakes unauthenticated connections, refuses the next with 503, and closes each silent one at the handshake timeout', async () => {
    await noPendingHandshakes();
    for (let i = 0; i < 3; i++) sockets.push(await silentSocket(url, '127.0.0.5'));
    expect(await upgrade(url, { localAddress: '127.0.0.6' })).toBe(503);
    await coordinator.waitForLine(/refused a WebSocket upgrade from 127\.0\.0\.6:\d+: 3 handshakes already pending \(at most 3\)/, EVENT_TIMEOUT_MS);
    const codes = await Promise.all(sockets.map((s) => closedWith(s, 15_000)));
    expect(codes).toEqual([CloseCode.HANDSHAKE_TIMEOUT, CloseCode.HANDSHAKE_TIMEOUT, CloseCode.HANDSHAKE_TIMEOUT]);
    await noPendingHandshakes();
    expect(await upgrade(url, { localAddress: '127.0.0.6' })).toBe('open');
  });

  it('before authentication a frame larger than a hello closes the connection (1009), unread', async () => {
    await noPendingHandshakes();
    const socket = await silentSocket(url, '127.0.0.8');
    sockets.push(socket);
    socket.send(new Uint8Array(100 * 1024), { binary: true });
    expect(await closedWith(socket, EVENT_TIMEOUT_MS)).toBe(CloseCode.MESSAGE_TOO_BIG);
  });

  it('a wrong hello with a right one behind it in the same buffer: closed at the first, the second never read', async () => {
    await noPendingHandshakes();
    const socket = await silentSocket(url, '127.0.0.9');
    sockets.push(socket);
    const received: Buffer[] = [];
    socket.on('message', (data: Buffer) => received.push(data));
    const hello = { type: 'hello', workerId: 'phantom', backend: 'none', device: 'none', pid: 1, nonce: new Uint8Array(32) } as const;
    // Both frames go out in one write, so they arrive in one buffer.
    const wrong = encodeMessage({ ...hello, protocolVersion: 1 } as never);
    const right = encodeMessage({ ...hello, protocolVersion: PROTOCOL_VERSION } as never);
    socket.send(wrong, { binary: true, fin: true });
    socket.send(right, { binary: true, fin: true });
    expect(await closedWith(socket, EVENT_TIMEOUT_MS)).toBe(CloseCode.VERSION_MISMATCH);
    expect(received).toEqual([]);
    expect(coordinator.linesMatching(/phantom/)).toEqual([]);
  });

  it('an address whose handshake failed waits before it may try again (429), others are not affected', async () => {
    await noPendingHandshakes();
    const rogue = await RogueWorker.connect(url, { workerId: 'guesser', token: 'a-guess' }, { localAddress: '127.0.0.10' });
    rogues.push(rogue);
    expect((await rogue.closedWithin(EVENT_TIMEOUT_MS)).code).toBe(CloseCode.BAD_TOKEN);
    expect(await upgrade(url, { localAddress: '127.0.0.10' })).toBe(429);
    expect(await upgrade(url, { localAddress: '127.0.0.11' })).toBe('open');
  });

  it('six token holders with fresh ids against --workers 2: two members, two standbys, two refused as "run full" (4008); a freed slot goes to the first standby', async () => {
    await noPendingHandshakes();
    const joined: RogueWorker[] = [];
    for (let i = 0; i < 6; i++) {
      const rogue = await RogueWorker.connect(url, { workerId: `sybil-${i}`, token: TOKEN }, { localAddress: '127.0.0.12' });
      rogues.push(rogue);
      joined.push(rogue);
    }
    await Promise.all(joined.slice(0, 2).map((r) => r.next(isWelcome, EVENT_TIMEOUT_MS, 'welcome')));
    for (const standby of joined.slice(2, 4)) {
      const notice = await standby.nextError(EVENT_TIMEOUT_MS);
      expect(notice.code).toBe('STANDBY');
      expect(standby.welcome).toBeUndefined();
    }
    for (const full of joined.slice(4)) expect((await full.closedWithin(EVENT_TIMEOUT_MS)).code).toBe(CloseCode.RUN_FULL);
    await coordinator.waitForLine(/refused sybil-4 from 127\.0\.0\.12:\d+: the run is full \(2 workers, 2 standbys\); closed with code 4008/, EVENT_TIMEOUT_MS);
    const metrics = JSON.parse((await get(port, '/metrics')).body);
    const states = Object.fromEntries(metrics.workers.map((w: { id: string; state: string }) => [w.id, w.state]));
    // The two members may already have been given the first step.
    expect(states).toMatchObject({ 'sybil-0': expect.stringMatching(/^(idle|computing)$/), 'sybil-1': expect.stringMatching(/^(idle|computing)$/), 'sybil-2': 'standby', 'sybil-3': 'standby' });

    joined[0].close();
    await joined[2].next(isWelcome, EVENT_TIMEOUT_MS, 'welcome after promotion');
    expect(joined[3].welcome).toBeUndefined();
  });
});

describe('a worker whose frames are refused, in a real run (--workers 2: one honest, one rogue)', () => {
  const processes: CliProcess[] = [];
  const rogues: RogueWorker[] = [];
  afterEach(() => {
    processes.splice(0).forEach((p) => p.stop());
    rogues.splice(0).forEach((r) => r.close());
  });

  it('a refused frame ends its part at once (no wait for --step-timeout); three in a row evict it, with the reason in the log and on /metrics; it is not let back in', { timeout: 180_000 }, async () => {
    const port = await freePort();
    const coordinator = new CliProcess('coordinator', coordinatorArgs(port, tempDir('evict'), 2, ['--max-steps', '12', '--no-eval', '--step-timeout', '600', '--max-refused-frames', '3']), ENV);
    processes.push(coordinator);
    await coordinator.waitForLine(/listening on ws:/, START_TIMEOUT_MS);
    processes.push(new CliProcess('honest worker', workerArgs(port, 'honest'), ENV));
    const rogue = await RogueWorker.connect(`ws://127.0.0.1:${port}`, { workerId: 'rogue', token: TOKEN });
    rogues.push(rogue);
    await rogue.next(isWelcome, START_TIMEOUT_MS, 'welcome');

    // Gradients naming another worker: bound to the connection, so refused.
    const first = await rogue.nextStep();
    rogue.send({ ...rogue.gradientsFor(first), workerId: 'honest' });
    await coordinator.waitForLine(new RegExp(`refused gradients from worker rogue for step ${first.step}: it names worker 'honest', but came on the connection of worker 'rogue'`), EVENT_TIMEOUT_MS);
    // With a 600 s step timeout, a step that waited for the rogue would not finish within the test.
    await coordinator.waitForLine(new RegExp(`step ${first.step}: dropped worker rogue's \\d+ examples`), EVENT_TIMEOUT_MS);

    for (let i = 0; i < 2; i++) {
      const step = await rogue.nextStep();
      rogue.send({ ...rogue.gradientsFor(step), exampleCount: step.indices.length + 1 });
    }
    await coordinator.waitForLine(/evicted worker rogue \(127\.0\.0\.1:\d+\): 3 frames refused in a row, the last: .*closed with code 4009/, EVENT_TIMEOUT_MS);
    expect((await rogue.closedWithin(EVENT_TIMEOUT_MS)).code).toBe(CloseCode.EVICTED);
    const metrics = (await (await fetch(`http://127.0.0.1:${port}/metrics`)).json()) as { workers: { id: string; state: string; reason?: string }[] };
    expect(metrics.workers.find((w) => w.id === 'rogue')).toMatchObject({ state: 'evicted', reason: expect.stringMatching(/3 frames refused in a row/) });

    const again = await RogueWorker.connect(`ws://127.0.0.1:${port}`, { workerId: 'rogue', token: TOKEN }, { localAddress: '127.0.0.2' });
    rogues.push(again);
    expect((await again.closedWithin(EVENT_TIMEOUT_MS)).code).toBe(CloseCode.EVICTED);
    expect(await coordinator.exit(120_000)).toBe(0);
    expect(coordinator.summary().steps).toBe(12);
  });
});

describe('the HTTP side off loopback (--host 0.0.0.0)', () => {
  let coordinator: CliProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    coordinator = new CliProcess('coordinator', [...coordinatorArgs(port, tempDir('http-auth'), 1, ['--max-steps', '1', '--no-eval']), '--host', '0.0.0.0'], ENV);
    await coordinator.waitForLine(/listening on ws:/, START_TIMEOUT_MS);
  }, START_TIMEOUT_MS + 10_000);
  afterAll(() => coordinator.stop());

  it('every endpoint but the bare /healthz needs the token: 401 without it, and the page asks for it', async () => {
    for (const path of ['/metrics', '/events', '/dashboard.js']) {
      const response = await get(port, path);
      expect(response.status, path).toBe(401);
      expect(response.body).not.toMatch(/run_id|workers/);
    }
    const page = await get(port, '/');
    expect(page.status).toBe(401);
    expect(page.body).toMatch(/<form method="post" action="\/login">/);
  });

  it('/healthz answers a probe without the token (a kubelet cannot send one) with up or down only, and the rest with the token', async () => {
    const bare = await get(port, '/healthz');
    expect(bare.status).toBe(200);
    expect(JSON.parse(bare.body)).toEqual({ ok: true });
    const full = await get(port, '/healthz', { authorization: `Bearer ${TOKEN}` });
    expect(JSON.parse(full.body)).toMatchObject({ ok: true, phase: expect.any(String), step: expect.any(Number) });
    expect((await get(port, '/healthz', { host: `attacker.example:${port}` })).status).toBe(421);
  });

  it('a bearer header with the token opens /metrics', async () => {
    expect((await get(port, '/metrics', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await get(port, '/metrics', { authorization: 'Bearer not-the-token' })).status).toBe(401);
  });

  it('the login form sets an HttpOnly, SameSite=Strict session cookie (not the token) that opens the dashboard; a wrong token gets the form again', async () => {
    const wrong = await fetch(`http://127.0.0.1:${port}/login`, { method: 'POST', body: new URLSearchParams({ token: 'nope' }), redirect: 'manual' });
    expect(wrong.status).toBe(401);
    const login = await fetch(`http://127.0.0.1:${port}/login`, { method: 'POST', body: new URLSearchParams({ token: TOKEN }), redirect: 'manual' });
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(new RegExp(`^dsdc_session_${port}=[^;]+; Path=/; HttpOnly; SameSite=Strict$`));
    expect(cookie).not.toContain(TOKEN);
    const page = await get(port, '/', { cookie: cookie.split(';')[0] });
    expect(page.status).toBe(200);
    expect(page.body).toContain('id="workers"');
  });

  it('in Chromium the dashboard asks for the token once, then shows the run live (the session cookie is not readable by the page)', async ({ skip }) => {
    if (!chromiumAvailable()) {
      // On CI the browser must be there (.ci/run installs it): fail rather than skip.
      if (process.env.CI) throw new Error(`no Chromium at ${chromiumPath()}`);
      console.warn(NO_CHROMIUM);
      return skip(NO_CHROMIUM);
    }
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.fill('input[name="token"]', TOKEN);
      await Promise.all([page.waitForURL(`http://127.0.0.1:${port}/`), page.click('button[type="submit"]')]);
      await page.waitForFunction(() => document.body.dataset.connection === 'open' && document.querySelector('#workers') !== null, undefined, { timeout: EVENT_TIMEOUT_MS, polling: 50 });
      expect(await page.evaluate(() => document.cookie)).toBe('');
      await page.reload();
      await page.waitForFunction(() => document.body.dataset.connection === 'open', undefined, { timeout: EVENT_TIMEOUT_MS, polling: 50 });
      expect(pageErrors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('one address holds at most 4 event streams; the next gets 429', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const statuses: number[] = [];
    // From an address of its own, so that the streams it keeps open take no other test's slots.
    for (let i = 0; i < 5; i++) statuses.push((await get(port, '/events', auth, '127.0.0.20')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
  });
});
