// Who may use the coordinator's HTTP side. Every request must name a served host (against DNS
// rebinding). Off loopback every endpoint also needs the run's token: scripts send it as
// `Authorization: Bearer <token>`; the dashboard asks for it once (POST /login) and keeps a
// session cookie derived from it, HttpOnly, SameSite=Strict, host-only and named after the port,
// so it is sent to this coordinator only and never holds the token itself.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AllowedHosts } from './allowedHosts.js';
import { CoordinatorError } from './errors.js';

const SESSION_LABEL = 'dsdc-dist dashboard session v1';
export const LOGIN_PATH = '/login';
/** Most bytes of a login form; a token is far shorter. */
export const MAX_LOGIN_BODY_BYTES = 4096;

export interface HttpAccessOptions {
  allowedHosts: AllowedHosts;
  /** The run's token; with `requireToken` every request must prove it. */
  token?: string;
  requireToken: boolean;
}

export class HttpAccess {
  private readonly session?: Buffer;

  constructor(private readonly o: HttpAccessOptions) {
    if (o.requireToken && !o.token) throw new CoordinatorError('INVALID_OPTIONS', 'HttpAccess: requireToken needs the token; a coordinator listening beyond loopback must be given one (--token-file)');
    this.session = o.token ? createHmac('sha256', o.token).update(SESSION_LABEL).digest() : undefined;
  }

  get requiresToken(): boolean {
    return this.o.requireToken;
  }

  hostAllowed(request: IncomingMessage): boolean {
    return this.o.allowedHosts.allowsHost(request.headers.host);
  }

  /** The request carries the token (bearer header) or the dashboard's session cookie. */
  authorised(request: IncomingMessage): boolean {
    if (!this.o.requireToken) return true;
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    if (bearer !== undefined && this.tokenMatches(bearer)) return true;
    const cookie = readCookie(request.headers.cookie, this.cookieName(request));
    return cookie !== undefined && equalBytes(Buffer.from(cookie, 'base64url'), this.session!);
  }

  tokenMatches(given: string): boolean {
    const digest = (s: string) => createHmac('sha256', SESSION_LABEL).update(s).digest();
    return this.o.token !== undefined && equalBytes(digest(given), digest(this.o.token));
  }

  /** The Set-Cookie value after a good login. */
  sessionCookie(request: IncomingMessage): string {
    return `${this.cookieName(request)}=${this.session!.toString('base64url')}; Path=/; HttpOnly; SameSite=Strict`;
  }

  /** One cookie per coordinator port: cookies are scoped by host, not port. */
  private cookieName(request: IncomingMessage): string {
    return `dsdc_session_${request.socket.localPort ?? 0}`;
  }
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

function equalBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
