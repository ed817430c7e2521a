// The one static-file server, on a real HTTP server on 127.0.0.1: exact paths only, GET and
// HEAD only, the cache policy the caller chose.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_TYPES, StaticFiles } from '../../src/http/staticFiles.js';

let server: Server;
let base: string;

beforeAll(async () => {
  const files = new StaticFiles({ cacheControl: 'no-store' })
    .set('/', { contentType: CONTENT_TYPES.html, body: '<p>page</p>' })
    .set('/model/w.bin', { contentType: CONTENT_TYPES.binary, body: new Uint8Array([1, 2, 3]) });
  server = createServer((request, response) => files.respond(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('StaticFiles', () => {
  it('serves a file with its type, length and cache policy', async () => {
    const response = await fetch(`${base}/model/w.bin?cache=bust`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(CONTENT_TYPES.binary);
    expect(response.headers.get('content-length')).toBe('3');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect([...new Uint8Array(await response.arrayBuffer())]).toEqual([1, 2, 3]);
  });

  it('serves / as /index.html too', async () => {
    expect(await (await fetch(`${base}/index.html`)).text()).toBe('<p>page</p>');
  });

  it('answers HEAD with the headers and no body', async () => {
    const response = await fetch(`${base}/`, { method: 'HEAD' });
    expect(response.headers.get('content-length')).toBe(String('<p>page</p>'.length));
    expect(await response.text()).toBe('');
  });

  it('refuses a path outside the table with 404, naming it', async () => {
    const response = await fetch(`${base}/../../etc/passwd`);
    expect(response.status).toBe(404);
  });

  it('refuses other methods with 405 and an Allow header', async () => {
    const response = await fetch(`${base}/`, { method: 'POST', body: 'x' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
  });
});
