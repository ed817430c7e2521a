// The coordinator's HTTP side, on the same port as its WebSocket: /healthz and /metrics (JSON),
// the live dashboard at / with its assets, and its Server-Sent Events feed at /events.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DashboardAssets } from './dashboard/assets.js';
import { RunEventStream } from './dashboard/eventStream.js';
import type { RunStatus } from './status.js';

export function handleHttp(status: RunStatus) {
  const assets = new DashboardAssets();
  const events = new RunEventStream(status);
  return (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0];
    const json = (code: number, body: unknown) => {
      response.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'GET') return json(405, { error: `method ${request.method} not allowed; use GET` });
    if (path === '/healthz') return json(status.phase === 'failed' ? 503 : 200, { ok: status.phase !== 'failed', phase: status.phase, step: status.lastStep?.step ?? 0 });
    if (path === '/metrics') return json(200, status);
    if (path === '/events') return events.handle(request, response);
    const asset = assets.get(path);
    if (asset) {
      response.writeHead(200, { 'content-type': asset.contentType, 'content-length': asset.body.length, 'cache-control': 'no-cache' });
      return response.end(asset.body);
    }
    return json(404, { error: `no page at ${path}; try / (dashboard), /events, /healthz or /metrics` });
  };
}
