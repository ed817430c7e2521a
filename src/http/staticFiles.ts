// Serving a fixed set of in-memory files over HTTP: GET and HEAD only, exact paths (a path
// not in the table is a 404, so nothing of the disk is reachable), a content length on every
// answer. The drawing page's server uses it for everything; the coordinator's HTTP endpoints
// use it for the dashboard's files, after their access checks and /metrics and /events.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface StaticFile {
  contentType: string;
  body: string | Uint8Array;
}

export const CONTENT_TYPES = {
  html: 'text/html; charset=utf-8',
  javascript: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json',
  text: 'text/plain; charset=utf-8',
  binary: 'application/octet-stream',
} as const;

export interface StaticFileOptions {
  /** Cache-Control of every file: 'no-store' when the same URL may serve other content after a restart. */
  cacheControl?: string;
}

/** The path of a request target, without query or fragment; odd targets such as '//' do not throw. */
export function requestPath(request: IncomingMessage): string {
  return (request.url ?? '/').split(/[?#]/)[0];
}

/** A table of files by URL path; '/index.html' is '/'. */
export class StaticFiles {
  private readonly files = new Map<string, StaticFile>();

  constructor(private readonly options: StaticFileOptions = {}) {}

  set(path: string, file: StaticFile): this {
    this.files.set(path, file);
    return this;
  }

  get(path: string): StaticFile | undefined {
    return this.files.get(path === '/index.html' ? '/' : path);
  }

  /** Answers the request from the table: 405 for other methods, 404 for unknown paths. */
  respond(request: IncomingMessage, response: ServerResponse): void {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end(`${request.method} is not supported; use GET\n`);
      return;
    }
    const path = requestPath(request);
    const file = this.get(path);
    if (file === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`${path} not found\n`);
      return;
    }
    sendFile(request, response, file, this.options);
  }
}

/** Writes one file as a 200 answer (no body for HEAD). */
export function sendFile(request: IncomingMessage, response: ServerResponse, file: StaticFile, options: StaticFileOptions = {}): void {
  const headers: Record<string, string | number> = { 'content-type': file.contentType, 'content-length': Buffer.byteLength(file.body) };
  if (options.cacheControl) headers['cache-control'] = options.cacheControl;
  response.writeHead(200, headers);
  response.end(request.method === 'HEAD' ? undefined : file.body);
}
