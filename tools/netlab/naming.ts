// Names and addresses of what a lab makes. Every namespace a lab makes is called
// `<prefix>-<owner pid>-<lab number>-…`, so a later lab can tell its own leftovers (an owner
// that no longer runs) from the objects of a lab that is still running, in this or another
// process, and sweep only the former.
import { NetLabError } from './commands.js';

export const DEFAULT_PREFIX = 'nl';
/** The benchmarking range (RFC 2544), never routed: every lab address lies in it. */
export const LAB_NETWORK = '198.18.0.0';
export const LAB_PREFIX_LENGTH = 15;
const FIRST_HOST_OFFSET = 10;
const MAX_HOSTS = 2 ** (32 - LAB_PREFIX_LENGTH) - FIRST_HOST_OFFSET - 2;

const HOST_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const ALIAS = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
const PREFIX = /^[a-z][a-z0-9]{0,7}$/;

export function checkPrefix(prefix: string): void {
  if (!PREFIX.test(prefix)) {
    throw new NetLabError('NETLAB_BAD_INPUT', `netlab prefix "${prefix}" must be 1-8 lowercase letters or digits, starting with a letter`);
  }
}

export function checkHostName(name: string): void {
  if (!HOST_NAME.test(name)) {
    throw new NetLabError('NETLAB_BAD_INPUT', `netlab host name "${name}" must be a DNS label: lowercase letters, digits and inner hyphens, at most 63 characters`);
  }
}

export function checkAlias(alias: string): void {
  if (!ALIAS.test(alias)) {
    throw new NetLabError('NETLAB_BAD_INPUT', `netlab alias "${alias}" must be a DNS name: lowercase letters, digits, dots and inner hyphens`);
  }
}

export interface LabNames {
  labId: string;
  hub: string;
  hostNamespace(host: string): string;
}

export function labNames(prefix: string, ownerPid: number, labNumber: number): LabNames {
  const labId = `${prefix}-${ownerPid}-${labNumber}`;
  return { labId, hub: `${labId}-hub`, hostNamespace: (host) => `${labId}-h-${host}` };
}

/** The owner pid of a namespace this prefix names, or undefined when it is not one of ours. */
export function ownerOf(prefix: string, namespace: string): number | undefined {
  const match = new RegExp(`^${prefix}-(\\d+)-\\d+-`).exec(namespace);
  return match ? Number(match[1]) : undefined;
}

/** The address of the lab's n-th host (0-based), inside 198.18.0.0/15. */
export function hostAddress(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_HOSTS) {
    throw new NetLabError('NETLAB_BAD_INPUT', `netlab host index ${index} is outside 0..${MAX_HOSTS - 1}`);
  }
  const value = ((198 << 24) | (18 << 16)) + FIRST_HOST_OFFSET + index;
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}
