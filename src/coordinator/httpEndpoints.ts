// The coordinator's HTTP side, on the same port as its WebSocket: /healthz, /metrics (JSON, or
// Prometheus text for a scraper's Accept header, and always at /metrics/prometheus),
// the live dashboard at / with its assets, and its Server-Sent Events feed at /events. Every
// request passes the Host check; off loopback every request also needs the token (httpAccess.ts),
// and a browser without it gets the login page instead of the dashboard. The one exception is a
// bare /healthz, up or failed and nothing about the run: a kubelet probe cannot carry a Secret
// (its headers are plain text in the pod spec), and that much an open port already tells. Only
// after those checks and the API routes are the dashboard's files served, from the shared
// StaticFiles table.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AllowedHosts } from './allowedHosts.js';
import { requestPath, type StaticFiles } from '../http/staticFiles.js';
import { dashboardFiles } from './dashboard/assets.js';
import { RunEventStream } from './dashboard/eventStream.js';
import { HttpAccess, LOGIN_PATH, MAX_LOGIN_BODY_BYTES } from './httpAccess.js';
import { PROMETHEUS_CONTENT_TYPE, prometheusText, wantsPrometheusText } from './prometheusText.js';
import type { RunStatus } from './status.js';

/** The Prometheus text format whatever the Accept header says (for scrapers that send none). */
export const PROMETHEUS_PATH = '/metrics/prometheus';

export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '::1']);

export interface HttpOptions {
  allowedHosts?: AllowedHosts;
  token?: string;
  /** True when listening on a loopback address only: then no token is asked for over HTTP. */
  loopbackOnly?: boolean;
}

/** Why a WebSocket upgrade is refused before any frame (foreign Host or Origin), or undefined. */
export function upgradeRefusal(request: IncomingMessage, origin: string | undefined, hosts: AllowedHosts, port: number): { status: 403; reason: string } | undefined {
  if (!hosts.allowsHost(request.headers.host)) return { status: 403, reason: `Host '${request.headers.host ?? ''}' is not a name of this coordinator` };
  if (!hosts.allowsOrigin(origin, port)) return { status: 403, reason: `Origin '${origin}' is not this coordinator's page` };
  return undefined;
}

export function handleHttp(status: RunStatus, options: HttpOptions = {}) {
  // Read on the first page request, not at start: a bundled coordinator (bench/) runs without the page's files.
  let assets: StaticFiles | undefined;
  const events = new RunEventStream(status);
  const loopbackOnly = options.loopbackOnly ?? true;
  const access = new HttpAccess({ allowedHosts: options.allowedHosts ?? new AllowedHosts('127.0.0.1'), token: options.token, requireToken: !loopbackOnly });
  return (request: IncomingMessage, response: ServerResponse) => {
    const path = requestPath(request);
    const json = (code: number, body: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
      response.end(JSON.stringify(body));
    };
    if (!access.hostAllowed(request)) {
      return json(421, { error: `Host '${request.headers.host ?? ''}' is not a name of this coordinator; add it with --allowed-host if it is` });
    }
    if (path === LOGIN_PATH && request.method === 'POST' && access.requiresToken) return login(request, response, access);
    if (request.method !== 'GET') return json(405, { error: `method ${request.method} not allowed; use GET` });
    const healthCode = status.phase === 'failed' ? 503 : 200;
    if (!access.authorised(request)) {
      if (path === '/healthz') return json(healthCode, { ok: healthCode === 200 });
      if (path === '/' || path === '/index.html') return loginPage(response, false);
      return json(401, { error: 'this coordinator listens beyond loopback: send the run token as "Authorization: Bearer <token>"' }, { 'www-authenticate': 'Bearer' });
    }
    if (path === '/healthz') return json(healthCode, { ok: healthCode === 200, phase: status.phase, step: status.lastStep?.step ?? 0 });
    if (path === PROMETHEUS_PATH || (path === '/metrics' && wantsPrometheusText(request.headers.accept))) {
      response.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' });
      return response.end(prometheusText(status));
    }
    if (path === '/metrics') return json(200, status);
    if (path === '/events') return events.handle(request, response);
    assets ??= dashboardFiles();
    if (assets.get(path)) return assets.respond(request, response);
    return json(404, { error: `no page at ${path}; try / (dashboard), /events, /healthz, /metrics or ${PROMETHEUS_PATH}` });
  };
}

function login(request: IncomingMessage, response: ServerResponse, access: HttpAccess): void {
  let body = '';
  let tooLong = false;
  request.setEncoding('utf8');
  request.on('data', (chunk: string) => {
    body += chunk;
    if (body.length > MAX_LOGIN_BODY_BYTES) {
      tooLong = true;
      request.destroy();
    }
  });
  request.on('end', () => {
    if (tooLong) return;
    const token = new URLSearchParams(body).get('token') ?? '';
    if (!access.tokenMatches(token.trim())) return loginPage(response, true);
    response.writeHead(303, { location: '/', 'set-cookie': access.sessionCookie(request), 'cache-control': 'no-store' });
    response.end();
  });
}

/** Asks for the token once; the answer becomes a session cookie (never stored by the page). */
function loginPage(response: ServerResponse, wrong: boolean): void {
  response.writeHead(401, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  response.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>dsdc-dist: token</title></head>
<body><main><h1>dsdc-dist coordinator</h1><p>This coordinator listens beyond loopback. Enter the run's token to see its dashboard.</p>
${wrong ? '<p role="alert">That is not the run\'s token.</p>' : ''}<form method="post" action="${LOGIN_PATH}"><input type="password" name="token" autocomplete="current-password" autofocus required aria-label="token"> <button type="submit">Open the dashboard</button></form></main></body></html>`);
}
