// The coordinator's HTTP side, on the same port as its WebSocket: /healthz and /metrics (JSON).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RunStatus } from './status.js';

export function handleHttp(status: RunStatus) {
  return (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0];
    const json = (code: number, body: unknown) => {
      response.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'GET') return json(405, { error: `method ${request.method} not allowed; use GET` });
    if (path === '/healthz') return json(status.phase === 'failed' ? 503 : 200, { ok: status.phase !== 'failed', phase: status.phase, step: status.lastStep?.step ?? 0 });
    if (path === '/metrics') return json(200, status);
    return json(404, { error: `no page at ${path}; try /healthz or /metrics` });
  };
}
