// The lab itself, measured with real packets between namespaces: names resolve per namespace,
// traffic stays inside the lab, shaped links show their delay, loss and rate, partitions drop
// silently and heal, kill and restart keep the address, and nothing is left behind.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listNamespaces, NetLab, netlabImpairment } from '../../tools/netlab/index.js';
import { jsonLine, median, netlabSkipReason, runProbe, startProbe } from '../helpers/netlab.js';

const skip = netlabSkipReason();
const ECHO_PORT = 7001;

function hostLinks(): string {
  return execFileSync('ip', ['-o', 'link', 'show']).toString().split('\n').map((line) => line.split(':')[1]?.trim()).filter(Boolean).sort().join(',');
}

describe.skipIf(skip !== undefined)('netlab', () => {
  let lab: NetLab;
  const linksBefore = skip ? '' : hostLinks();

  beforeAll(async () => {
    lab = await NetLab.create({ prefix: 'nltest' });
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it('resolves host names and aliases inside each namespace, and reaches nothing outside the lab', async () => {
    const server = await lab.addHost('coordinator', { aliases: ['trainer.default.svc'] });
    const client = await lab.addHost('w0');
    expect(server.address).toMatch(/^198\.1[89]\./);
    await startProbe(server, 'echo-server', [ECHO_PORT]);
    for (const name of ['coordinator', 'trainer.default.svc', server.address]) {
      expect(await runProbe(client, 'connect', [name, ECHO_PORT, 5000])).toMatchObject({ outcome: 'connected' });
    }
    // No route leaves the lab: an address outside 198.18.0.0/15 is unreachable from a host.
    expect(await runProbe(client, 'connect', ['192.0.2.1', 80, 5000])).toMatchObject({ outcome: 'error', code: 'ENETUNREACH' });
  });

  it('adds the configured delay to each direction of a shaped link (TCP round trips)', async () => {
    const slow = await lab.addHost('slow', { shape: { delayMs: 15 } });
    await startProbe(slow, 'echo-server', [ECHO_PORT]);
    const { rttMs } = (await runProbe(lab.host('w0'), 'rtt', ['slow', ECHO_PORT, 20])) as { rttMs: number[] };
    // Two crossings of the 15 ms link; the rest of the path adds well under 10 ms.
    expect(median(rttMs)).toBeGreaterThan(29);
    expect(median(rttMs)).toBeLessThan(45);
    const { rttMs: direct } = (await runProbe(lab.host('w0'), 'rtt', ['coordinator', ECHO_PORT, 20])) as { rttMs: number[] };
    expect(median(direct)).toBeLessThan(10);
  });

  it('changes the delay of a running host\'s link in place', async () => {
    await lab.shape('coordinator', { delayMs: 25 });
    const { rttMs } = (await runProbe(lab.host('w0'), 'rtt', ['coordinator', ECHO_PORT, 10])) as { rttMs: number[] };
    expect(median(rttMs)).toBeGreaterThan(48);
    expect(median(rttMs)).toBeLessThan(70);
    await lab.shape('coordinator', {});
  });

  it('drops the configured share of packets (UDP datagrams counted at the sink)', async () => {
    const lossy = await lab.addHost('lossy', { shape: { lossPercent: 20 } });
    const sink = await startProbe(lossy, 'udp-sink', [7002]);
    const received = jsonLine(sink, (value) => 'received' in value, 30_000);
    await runProbe(lab.host('w0'), 'udp-send', ['lossy', 7002, 2000]);
    // Out of what crossed the link: datagrams the sink's own full buffer dropped (a busy machine
    // leaving it unscheduled) are not the link's loss.
    const { received: count, droppedByReceiver } = (await received) as { received: number; droppedByReceiver: number };
    expect(droppedByReceiver, 'datagrams dropped by the receiver itself').toBeLessThan(200);
    const share = count / (2000 - droppedByReceiver);
    // 80% ± 4 standard deviations of the binomial (0.9 points each).
    expect(share, `share received ${share}`).toBeGreaterThan(0.7);
    expect(share, `share received ${share}`).toBeLessThan(0.84);
  });

  it('limits the rate of a shaped link (tc tbf) to within 20% of the configured bandwidth', async () => {
    const narrow = await lab.addHost('narrow', { shape: { rateMbit: 20 } });
    const sink = await startProbe(narrow, 'sink', [7003]);
    const done = jsonLine(sink, (value) => 'bytes' in value, 60_000);
    await runProbe(lab.host('w0'), 'send', ['narrow', 7003, 5_000_000], 60_000);
    const { bytes, seconds } = (await done) as { bytes: number; seconds: number };
    const mbit = (bytes * 8) / seconds / 1e6;
    expect(mbit).toBeGreaterThan(14);
    expect(mbit).toBeLessThan(22);
  });

  it('partitions a host with silent drops (connects time out, no error), and heals it', async () => {
    await lab.partition('coordinator');
    expect(await runProbe(lab.host('w0'), 'connect', ['coordinator', ECHO_PORT, 1500])).toMatchObject({ outcome: 'timeout' });
    await lab.heal('coordinator');
    expect(await runProbe(lab.host('w0'), 'connect', ['coordinator', ECHO_PORT, 5000])).toMatchObject({ outcome: 'connected' });
  });

  it('kills every process of a host and makes it again with the same address', async () => {
    const before = lab.host('coordinator');
    const inside = execFileSync('ip', ['netns', 'pids', before.namespace]).toString().trim();
    expect(inside).not.toBe('');
    await lab.kill('coordinator');
    expect(await listNamespaces()).not.toContain(before.namespace);
    expect(await runProbe(lab.host('w0'), 'connect', ['coordinator', ECHO_PORT, 1500])).toMatchObject({ outcome: 'timeout' });
    const after = await lab.restart('coordinator');
    expect(after.address).toBe(before.address);
    expect(execFileSync('ip', ['netns', 'pids', after.namespace]).toString().trim()).toBe('');
    await startProbe(after, 'echo-server', [ECHO_PORT]);
    expect(await runProbe(lab.host('w0'), 'connect', ['coordinator', ECHO_PORT, 5000])).toMatchObject({ outcome: 'connected' });
  });

  it('removes every namespace, hosts file and link it made on destroy', async () => {
    const namespaces = [lab.hubNamespace, ...['coordinator', 'w0', 'slow', 'lossy', 'narrow'].map((name) => lab.host(name).namespace)];
    await lab.destroy();
    const left = await listNamespaces();
    for (const namespace of namespaces) {
      expect(left).not.toContain(namespace);
      expect(existsSync(`/etc/netns/${namespace}`)).toBe(false);
    }
    expect(hostLinks()).toBe(linksBefore);
    expect(`impairment: ${netlabImpairment()}`).toMatch(/netem|delayline/);
  });

  it('sweeps what a lab left when its process was killed, at the next lab', async () => {
    const script = fileURLToPath(new URL('./abandonLab.mts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const { labId } = (await jsonLine(child, (value) => 'labId' in value, 30_000)) as { labId: string };
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const leftover = (await listNamespaces()).filter((name) => name.startsWith(`${labId}-`));
    expect(leftover.length).toBeGreaterThan(0);
    const next = await NetLab.create({ prefix: 'nltest' });
    await next.destroy();
    expect((await listNamespaces()).filter((name) => name.startsWith(`${labId}-`))).toEqual([]);
    expect(readdirSync('/etc/netns').filter((name) => name.startsWith(`${labId}-`))).toEqual([]);
    expect(hostLinks()).toBe(linksBefore);
  });
});

describe.skipIf(skip === undefined)('netlab (unavailable here)', () => {
  it.skip(skip ?? '', () => {});
});
