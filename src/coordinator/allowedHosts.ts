// Which names a request may use to reach this coordinator (the Host header) and which pages may
// open its WebSocket (the Origin header). A browser applies no CORS to WebSockets, so without
// the Origin check any page the user visits could join the run; without the Host check a DNS
// rebinding name (attacker.example resolving to 127.0.0.1) reads the HTTP endpoints. Served
// names: the loopback names, the --host address, and each --allowed-host; on a wildcard address
// (0.0.0.0, ::) also this machine's own addresses and hostname.
import { hostname, networkInterfaces } from 'node:os';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];
const WILDCARD_ADDRESSES = new Set(['0.0.0.0', '::', '']);

export class AllowedHosts {
  private readonly names: Set<string>;

  constructor(listenHost: string, extra: readonly string[] = []) {
    const names = [...LOOPBACK_NAMES, listenHost, ...extra];
    if (WILDCARD_ADDRESSES.has(listenHost)) names.push(...machineAddresses());
    this.names = new Set(names.filter((n) => !WILDCARD_ADDRESSES.has(n)).map(normalise));
  }

  /** The Host header of a request (name and optional port) names this coordinator. */
  allowsHost(header: string | undefined): boolean {
    if (!header) return false;
    const name = hostOf(header);
    return name !== undefined && this.names.has(name);
  }

  /**
   * An Origin header of a WebSocket upgrade: absent (Node workers send none) or this
   * coordinator's own page, i.e. an http(s) origin on a served name and the port served.
   */
  allowsOrigin(origin: string | undefined, port: number): boolean {
    if (origin === undefined) return true;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    const originPort = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    return originPort === port && this.names.has(normalise(url.hostname));
  }

  describe(): string {
    return [...this.names].join(', ');
  }
}

/** The name part of a Host header: `name`, `name:port`, `[v6]`, `[v6]:port`; undefined if malformed. */
function hostOf(header: string): string | undefined {
  const text = header.trim();
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0) return undefined;
    const rest = text.slice(end + 1);
    if (rest !== '' && !/^:\d+$/.test(rest)) return undefined;
    return normalise(text.slice(1, end));
  }
  const match = /^([^:]+)(:\d+)?$/.exec(text);
  return match ? normalise(match[1]) : undefined;
}

function normalise(name: string): string {
  return name.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
}

function machineAddresses(): string[] {
  const addresses = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address.replace(/%.*$/, '')));
  return [...addresses, hostname()];
}
