// Why a worker cannot reach its coordinator, in words a user can act on: the cause (nothing
// listening, a TLS mismatch, an untrusted certificate, an HTTP server that is not a coordinator)
// and the fix. A bare `closed (code 1006)` on every retry leaves the user guessing.
import { connect as tlsConnect } from 'node:tls';
import { CodedError } from '../errors/codedError.js';

/** How long the TLS probe (is a ws:// URL pointing at a wss:// coordinator?) may take. */
export const TLS_PROBE_TIMEOUT_MS = 3_000;

const SELF_SIGNED = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN']);
const UNKNOWN_ISSUER = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_UNTRUSTED']);
const UNREACHABLE = new Set(['ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN']);

export class CoordinatorUrlError extends CodedError<'BAD_COORDINATOR_URL'> {
  constructor(message: string) {
    super('BAD_COORDINATOR_URL', message);
  }
}

/**
 * Checks `--coordinator` before any connection: ws:// or wss:// with a host and port. An http://
 * URL (the dashboard's) is refused with the ws:// one to use instead.
 */
export function checkCoordinatorUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CoordinatorUrlError(`--coordinator '${text}' is not a URL; expected ws://HOST:PORT (wss://HOST:PORT for a TLS coordinator)`);
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    const ws = `${url.protocol === 'https:' ? 'wss' : 'ws'}://${url.host}`;
    throw new CoordinatorUrlError(`--coordinator ${text}: this is an HTTP URL (the dashboard's); workers connect with ${ws}`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new CoordinatorUrlError(`--coordinator ${text}: the scheme must be ws:// or wss://, got ${url.protocol}//`);
  }
  return url;
}

/** Whether something at host:port completes a TLS handshake (certificate not checked). */
export function speaksTls(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host, port, rejectUnauthorized: false, servername: /^[\d.:]+$/.test(host) ? undefined : host });
    const done = (result: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(false), TLS_PROBE_TIMEOUT_MS);
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface ConnectFailure {
  /** The error the WebSocket emitted, if any. */
  error?: Error;
  /** Whether a --tls-ca was given. */
  tlsCaGiven: boolean;
}

/** One sentence: what went wrong connecting to `url` and what to do about it. */
export async function diagnoseConnectFailure(urlText: string, { error, tlsCaGiven }: ConnectFailure): Promise<string> {
  const url = new URL(urlText);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const secure = url.protocol === 'wss:';
  const port = Number(url.port || (secure ? 443 : 80));
  const where = `${url.hostname}:${port}`;
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  const message = error?.message ?? '';
  if (code === 'ECONNREFUSED') return `connection refused: nothing listens on ${where}; start the coordinator, or check the host and port in --coordinator`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host ${url.hostname} not found (${code}); check the name in --coordinator`;
  if (UNREACHABLE.has(code)) return `${where} cannot be reached (${code}); check the address, the network and any firewall between them`;
  if (SELF_SIGNED.has(code) || /self[- ]signed/i.test(message)) {
    return tlsCaGiven
      ? `the coordinator's certificate is self-signed and is not the one in --tls-ca; pass the coordinator's own --tls-cert file as --tls-ca`
      : 'self-signed certificate: pass --tls-ca cert.pem (the coordinator\'s --tls-cert file) to trust it';
  }
  if (UNKNOWN_ISSUER.has(code)) return `the coordinator's certificate is signed by an authority this worker does not trust (${code}); pass that authority's certificate as --tls-ca`;
  if (code === 'CERT_HAS_EXPIRED') return "the coordinator's certificate has expired (or this machine's clock is wrong); renew its --tls-cert";
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `the coordinator's certificate is not for ${url.hostname}: connect by a name it lists, or make one for this name (${message})`;
  if (secure && (code === 'EPROTO' || /wrong version number|packet length too long|ERR_SSL/i.test(`${code} ${message}`))) {
    return `${where} does not speak TLS: the coordinator serves plain WebSocket; use ws://${url.host}`;
  }
  const status = /Unexpected server response: (\d+)/.exec(message);
  if (status) return `${where} answered HTTP ${status[1]} instead of a WebSocket upgrade: it is not a dsdc-dist coordinator (wrong port?)`;
  // A TLS server drops a plain HTTP upgrade request without an answer.
  if (!secure && (await speaksTls(host, port))) return `the coordinator speaks TLS: use wss://${url.host} (with --tls-ca cert.pem for a self-signed certificate)`;
  if (code === 'ECONNRESET' || /socket hang up/.test(message)) return `${where} closed the connection before the WebSocket handshake: is it a dsdc-dist coordinator?`;
  return error ? `${message}${code && !message.includes(code) ? ` (${code})` : ''}` : `${where} closed the connection during the handshake`;
}
