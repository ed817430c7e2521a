// A lab of hosts, each in its own network namespace, on one Linux bridge in a hub namespace the
// lab makes (nothing is added to this machine's own network stack). A host's link is a veth
// pair to the bridge, or, for delay/jitter/loss on a kernel without sch_netem, a delay line
// (two TAPs and a userspace process between them). Partitions detach the host's bridge port:
// its frames are dropped silently, its link stays up. Kill removes the namespace with every
// process in it; restart makes it again with the same name, address and MAC.
import { spawn, type ChildProcess } from 'node:child_process';
import { removeNamespace, removeNamespaceSync, onProcessEnd, sweepStale } from './cleanup.js';
import { ipIn, NetLabError, run } from './commands.js';
import { DelayLine } from './delayLine.js';
import { writeHostsFile, type HostsEntry } from './hostsFile.js';
import { checkAlias, checkHostName, checkPrefix, DEFAULT_PREFIX, hostAddress, LAB_PREFIX_LENGTH, labNames, type LabNames } from './naming.js';
import { applyQdisc, checkShape, impairs, type Impairment, type LinkShape } from './shaping.js';
import { probeSupport } from './support.js';

export interface LabHost {
  name: string;
  address: string;
  /** The network namespace the host is (`ip netns exec NAMESPACE …`). */
  namespace: string;
  /** Starts `cmd args` inside the host's namespace; `env` is added to this process's environment. */
  spawn(cmd: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; cwd?: string }): ChildProcess;
}

interface HostRecord {
  name: string;
  index: number;
  address: string;
  mac: string;
  aliases: string[];
  shape: LinkShape;
  namespace: string;
  alive: boolean;
  partitioned: boolean;
  link: 'veth' | 'delayline';
  delayLine?: DelayLine;
}

const BRIDGE = 'br0';
const HOST_DEVICE = 'eth0';
/** A delay line's host TAP, before it replaces a veth and takes its name. */
const INCOMING_DEVICE = 'eth1';

let labsMade = 0;
const liveNamespaces = new Set<string>();

function hex(byte: number): string {
  return (byte & 255).toString(16).padStart(2, '0');
}

export class NetLab {
  private readonly hosts = new Map<string, HostRecord>();
  private destroyed = false;
  private readonly forgetExitHook: () => void;

  private constructor(
    private readonly names: LabNames,
    private readonly labNumber: number,
    /** How delay, jitter and loss are made here: tc netem, or the userspace delay line. */
    readonly impairment: Impairment,
  ) {
    this.forgetExitHook = onProcessEnd(() => this.destroySync());
  }

  static async create(opts: { prefix?: string } = {}): Promise<NetLab> {
    const prefix = opts.prefix ?? DEFAULT_PREFIX;
    checkPrefix(prefix);
    const support = probeSupport();
    if (!support.ok) throw new NetLabError('NETLAB_UNSUPPORTED', `netlab cannot run here: ${support.reason}`);
    await sweepStale(prefix, (namespace) => liveNamespaces.has(namespace));
    const labNumber = ++labsMade;
    const lab = new NetLab(labNames(prefix, process.pid, labNumber), labNumber, support.impairment);
    liveNamespaces.add(lab.names.hub);
    try {
      await run('ip', ['netns', 'add', lab.names.hub]);
      await ipIn(lab.names.hub, ['link', 'set', 'lo', 'up']);
      await ipIn(lab.names.hub, ['link', 'add', BRIDGE, 'type', 'bridge']);
      await ipIn(lab.names.hub, ['link', 'set', BRIDGE, 'up']);
    } catch (error) {
      await lab.destroy();
      throw error;
    }
    return lab;
  }

  /** The lab's id, the start of every namespace name it makes. */
  get id(): string {
    return this.names.labId;
  }

  get hubNamespace(): string {
    return this.names.hub;
  }

  async addHost(name: string, opts: { aliases?: string[]; shape?: LinkShape } = {}): Promise<LabHost> {
    this.checkUsable();
    checkHostName(name);
    const aliases = opts.aliases ?? [];
    aliases.forEach(checkAlias);
    const shape = opts.shape ?? {};
    checkShape(shape, `netlab host ${name}`);
    const taken = new Set([...this.hosts.values()].flatMap((host) => [host.name, ...host.aliases]));
    for (const wanted of [name, ...aliases]) {
      if (taken.has(wanted)) throw new NetLabError('NETLAB_BAD_INPUT', `netlab name "${wanted}" is already a host or alias in this lab`);
    }
    const index = this.hosts.size;
    const record: HostRecord = {
      name,
      index,
      address: hostAddress(index),
      mac: `02:4e:4c:${hex(this.labNumber)}:${hex(index >> 8)}:${hex(index)}`,
      aliases,
      shape,
      namespace: this.names.hostNamespace(name),
      alive: false,
      partitioned: false,
      link: this.impairment === 'delayline' && impairs(shape) ? 'delayline' : 'veth',
    };
    this.hosts.set(name, record);
    await this.bringUp(record);
    return this.labHost(record);
  }

  host(name: string): LabHost {
    return this.labHost(this.record(name));
  }

  /** Replaces the shape of the host's link (both directions); `{}` removes every limit. */
  async shape(name: string, shape: LinkShape): Promise<void> {
    const record = this.record(name);
    checkShape(shape, `netlab host ${name}`);
    record.shape = shape;
    if (!record.alive) return;
    if (this.impairment === 'delayline' && impairs(shape) && record.link === 'veth') await this.replaceVethWithDelayLine(record);
    await this.applyShape(record);
  }

  /** Cuts the host off the bridge: what it sends and what is sent to it is dropped, silently. */
  async partition(name: string): Promise<void> {
    const record = this.record(name);
    record.partitioned = true;
    if (record.alive) await ipIn(this.names.hub, ['link', 'set', 'dev', this.bridgePort(record), 'nomaster']);
  }

  async heal(name: string): Promise<void> {
    const record = this.record(name);
    record.partitioned = false;
    if (record.alive) await ipIn(this.names.hub, ['link', 'set', 'dev', this.bridgePort(record), 'master', BRIDGE]);
  }

  /** Kills every process in the host's namespace (SIGKILL) and deletes the namespace. */
  async kill(name: string): Promise<void> {
    const record = this.record(name);
    if (!record.alive) return;
    record.alive = false;
    await removeNamespace(record.namespace, () => this.stopDelayLine(record));
    liveNamespaces.delete(record.namespace);
  }

  /** Makes the host again (after kill, or kills it first): same name, address, MAC, aliases, shape. */
  async restart(name: string): Promise<LabHost> {
    const record = this.record(name);
    this.checkUsable();
    if (record.alive) await this.kill(name);
    await this.bringUp(record);
    return this.labHost(record);
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const record of this.hosts.values()) {
      if (record.alive) await removeNamespace(record.namespace, () => this.stopDelayLine(record));
      await this.stopDelayLine(record);
      record.alive = false;
      liveNamespaces.delete(record.namespace);
    }
    await removeNamespace(this.names.hub);
    liveNamespaces.delete(this.names.hub);
    this.forgetExitHook();
  }

  private destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const record of this.hosts.values()) {
      record.delayLine?.stopNow();
      removeNamespaceSync(record.namespace);
    }
    removeNamespaceSync(this.names.hub);
  }

  private async stopDelayLine(record: HostRecord): Promise<void> {
    await record.delayLine?.stop();
    record.delayLine = undefined;
  }

  private checkUsable(): void {
    if (this.destroyed) throw new NetLabError('NETLAB_STATE', `netlab ${this.names.labId} was destroyed`);
  }

  private record(name: string): HostRecord {
    const record = this.hosts.get(name);
    if (!record) throw new NetLabError('NETLAB_BAD_INPUT', `netlab has no host "${name}" (hosts: ${[...this.hosts.keys()].join(', ') || 'none'})`);
    return record;
  }

  private bridgePort(record: HostRecord): string {
    return record.link === 'veth' ? `p${record.index}` : `t${record.index}b`;
  }

  private labHost(record: HostRecord): LabHost {
    return {
      name: record.name,
      address: record.address,
      namespace: record.namespace,
      spawn: (cmd, args, opts = {}) => {
        if (!record.alive) throw new NetLabError('NETLAB_STATE', `netlab host ${record.name} is not running (killed; restart it first)`);
        return spawn('ip', ['netns', 'exec', record.namespace, cmd, ...args], {
          cwd: opts.cwd,
          env: { ...process.env, ...opts.env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      },
    };
  }

  private hostsEntries(): HostsEntry[] {
    return [...this.hosts.values()].map((host) => ({ address: host.address, names: [host.name, ...host.aliases] }));
  }

  private rewriteHostsFiles(): void {
    const entries = this.hostsEntries();
    for (const host of this.hosts.values()) if (host.alive) writeHostsFile(host.namespace, entries);
  }

  private async bringUp(record: HostRecord): Promise<void> {
    liveNamespaces.add(record.namespace);
    await run('ip', ['netns', 'add', record.namespace]);
    record.alive = true;
    this.rewriteHostsFiles();
    await ipIn(record.namespace, ['link', 'set', 'lo', 'up']);
    if (record.link === 'veth') {
      const port = this.bridgePort(record);
      await ipIn(this.names.hub, ['link', 'add', port, 'type', 'veth', 'peer', 'name', HOST_DEVICE, 'netns', record.namespace]);
      await this.configureHostDevice(record, HOST_DEVICE);
    } else {
      await this.startDelayLine(record);
      await ipIn(record.namespace, ['link', 'set', 'dev', INCOMING_DEVICE, 'name', HOST_DEVICE]);
      await this.configureHostDevice(record, HOST_DEVICE);
    }
    await this.attachBridgePort(record);
    await this.applyShape(record);
  }

  /** Starts the host's delay line and moves its host TAP into the namespace as INCOMING_DEVICE. */
  private async startDelayLine(record: HostRecord): Promise<void> {
    const hostTap = `t${record.index}h`;
    record.delayLine = await DelayLine.start(this.names.hub, hostTap, `t${record.index}b`, record.index + 1);
    await ipIn(this.names.hub, ['link', 'set', 'dev', hostTap, 'netns', record.namespace]);
    await ipIn(record.namespace, ['link', 'set', 'dev', hostTap, 'name', INCOMING_DEVICE]);
  }

  /** Swaps a running host's veth for a delay line; the address and MAC move, so open connections survive. */
  private async replaceVethWithDelayLine(record: HostRecord): Promise<void> {
    const oldPort = this.bridgePort(record);
    record.link = 'delayline';
    await this.startDelayLine(record);
    await ipIn(this.names.hub, ['link', 'del', 'dev', oldPort]);
    await ipIn(record.namespace, ['link', 'set', 'dev', INCOMING_DEVICE, 'name', HOST_DEVICE]);
    await this.configureHostDevice(record, HOST_DEVICE);
    await this.attachBridgePort(record);
  }

  private async configureHostDevice(record: HostRecord, device: string): Promise<void> {
    await ipIn(record.namespace, ['link', 'set', 'dev', device, 'address', record.mac]);
    await ipIn(record.namespace, ['addr', 'add', `${record.address}/${LAB_PREFIX_LENGTH}`, 'dev', device]);
    await ipIn(record.namespace, ['link', 'set', 'dev', device, 'up']);
  }

  private async attachBridgePort(record: HostRecord): Promise<void> {
    const port = this.bridgePort(record);
    if (!record.partitioned) await ipIn(this.names.hub, ['link', 'set', 'dev', port, 'master', BRIDGE]);
    await ipIn(this.names.hub, ['link', 'set', 'dev', port, 'up']);
  }

  private async applyShape(record: HostRecord): Promise<void> {
    const withNetem = this.impairment === 'netem';
    await applyQdisc(record.namespace, HOST_DEVICE, record.shape, withNetem);
    await applyQdisc(this.names.hub, this.bridgePort(record), record.shape, withNetem);
    await record.delayLine?.set(record.shape);
  }
}
