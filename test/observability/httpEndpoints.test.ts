// The coordinator's HTTP side serves the dashboard and its charting library itself (no CDN).
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHART_ASSET_PATH } from '../../src/coordinator/dashboard/assets.js';
import { handleHttp } from '../../src/coordinator/httpEndpoints.js';
import { RunStatus } from '../../src/coordinator/status.js';

describe('coordinator HTTP endpoints', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer(handleHttp(new RunStatus('run-1', 2)));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('serves the dashboard page at /, which loads only same-origin scripts', async () => {
    const response = await fetch(`${base}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toContain('id="workers"');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    for (const [, src] of html.matchAll(/<script src="([^"]+)"/g)) expect((await fetch(`${base}/${src}`)).status, src).toBe(200);
    const sheets = [...html.matchAll(/<link rel="stylesheet" href="([^"]+)"/g)].map((m) => m[1]);
    expect(sheets).toEqual(['theme.css', 'dashboard.css']);
    for (const href of sheets) {
      const sheet = await fetch(`${base}/${href}`);
      expect(sheet.status, href).toBe(200);
      expect(sheet.headers.get('content-type'), href).toMatch(/^text\/css/);
    }
  });

  it('serves Chart.js from node_modules as a browser script', async () => {
    const response = await fetch(`${base}${CHART_ASSET_PATH}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/javascript/);
    const source = await response.text();
    expect(source).toContain('Chart.js v4');
    expect(source).not.toContain('sourceMappingURL');
  });

  it('answers an unknown path with 404 and the paths that exist', async () => {
    const response = await fetch(`${base}/nope`);
    expect(response.status).toBe(404);
    expect((await response.json()).error).toMatch(/\/events/);
  });

  it('serves no file of the disk outside its table: the source next to the dashboard files is 404', async () => {
    for (const path of ['/assets.ts', '/dashboard/assets.ts', '/eventStream.ts', '/sharedAssets.ts']) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(404);
    }
  });

  it('sends every dashboard file with its length and no-cache', async () => {
    for (const path of ['/', '/charts.js', '/dashboard.js', '/dashboard.css', '/theme.css', '/step-phases.js', '/smoothing.js', CHART_ASSET_PATH]) {
      const response = await fetch(`${base}${path}`);
      const body = new Uint8Array(await response.arrayBuffer());
      expect(response.headers.get('cache-control'), path).toBe('no-cache');
      expect(Number(response.headers.get('content-length')), path).toBe(body.byteLength);
    }
  });

  it('keeps /metrics free of the step history', async () => {
    const body = await (await fetch(`${base}/metrics`)).json();
    expect(body).toMatchObject({ run_id: 'run-1', phase: 'waiting-for-workers', expected_workers: 2 });
    expect(body).not.toHaveProperty('history');
  });
});
