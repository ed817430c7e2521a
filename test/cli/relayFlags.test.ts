// `dsdc-dist relay` refuses flags that cannot work with a sentence naming the flag, before it
// connects anywhere or starts any worker.
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('dsdc-dist relay flags', () => {
  it('needs --coordinator', async () => {
    const result = await runCli(['relay', '--workers', '2']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Missing required argument: coordinator/);
  });

  it('refuses --workers 0 and a coordinator URL that is not ws:// or wss://', async () => {
    const zero = await runCli(['relay', '--coordinator', 'ws://127.0.0.1:7070', '--workers', '0']);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/--workers must be a positive integer, got 0/);
    const http = await runCli(['relay', '--coordinator', 'http://127.0.0.1:7070', '--workers', '1', '--no-launch-workers']);
    expect(http.code).toBe(1);
    expect(http.stderr).toMatch(/BAD_COORDINATOR_URL/);
  });

  it('refuses a weak token when the local workers may connect from beyond loopback', async () => {
    const result = await runCli(['relay', '--coordinator', 'ws://127.0.0.1:7070', '--host', '0.0.0.0', '--no-launch-workers'], { env: { DSDC_TOKEN: 'short' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/TOKEN_TOO_WEAK/);
  });
});
