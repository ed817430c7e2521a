// Per-namespace name resolution: /etc/netns/NS/hosts, which `ip netns exec NS` bind-mounts over
// /etc/hosts, so processes in the lab reach each other by host name (and by aliases such as a
// Service name). Written in place, never renamed over: a running process's bind mount keeps
// the file's inode, so it sees hosts added after it started.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const NETNS_ETC = '/etc/netns';

export interface HostsEntry {
  address: string;
  names: string[];
}

export function hostsFileText(entries: HostsEntry[]): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];
  for (const entry of entries) lines.push(`${entry.address}\t${entry.names.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

export function writeHostsFile(namespace: string, entries: HostsEntry[]): void {
  const dir = join(NETNS_ETC, namespace);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'hosts'), hostsFileText(entries));
}

export function removeNamespaceEtc(namespace: string): void {
  rmSync(join(NETNS_ETC, namespace), { recursive: true, force: true });
}
