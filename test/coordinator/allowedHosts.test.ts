// Which Host and Origin headers name this coordinator.
import { describe, expect, it } from 'vitest';
import { AllowedHosts } from '../../src/coordinator/allowedHosts.js';

describe('AllowedHosts', () => {
  const hosts = new AllowedHosts('127.0.0.1', ['trainer.lan']);

  it('serves the loopback names, --host and --allowed-host, with or without a port, in any case', () => {
    for (const host of ['127.0.0.1:7070', 'localhost', 'LOCALHOST:1', '[::1]:7070', 'trainer.lan:7070', 'trainer.lan.']) expect(hosts.allowsHost(host), host).toBe(true);
  });

  it('refuses other names, a missing Host, and malformed ones', () => {
    for (const host of [undefined, '', 'attacker.example:7070', '127.0.0.1.attacker.example', 'localhost:abc', '[::1', 'trainer.lan:7070:1']) expect(hosts.allowsHost(host), String(host)).toBe(false);
  });

  it("allows no Origin (Node workers) and the coordinator's own page on its port only", () => {
    expect(hosts.allowsOrigin(undefined, 7070)).toBe(true);
    expect(hosts.allowsOrigin('http://127.0.0.1:7070', 7070)).toBe(true);
    expect(hosts.allowsOrigin('http://trainer.lan:7070', 7070)).toBe(true);
    for (const origin of ['https://attacker.example', 'http://127.0.0.1:7071', 'null', 'file://', 'http://localhost', 'chrome-extension://abc']) expect(hosts.allowsOrigin(origin, 7070), origin).toBe(false);
  });

  it('on a wildcard address also serves the machine\'s own addresses, not 0.0.0.0 itself', () => {
    const wildcard = new AllowedHosts('0.0.0.0');
    expect(wildcard.allowsHost('127.0.0.1:1')).toBe(true);
    expect(wildcard.allowsHost('0.0.0.0:1')).toBe(false);
  });
});
