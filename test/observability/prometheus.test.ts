// /metrics in the Prometheus text format: content negotiation, the same access rules as the
// JSON, and a scrape of a real two-worker run parsed by an npm parser of the format.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import { afterAll, describe, expect, it } from 'vitest';
import { AllowedHosts } from '../../src/coordinator/allowedHosts.js';
import { handleHttp } from '../../src/coordinator/httpEndpoints.js';
import { escapeLabelValue, prometheusText, wantsPrometheusText, WORKER_STATES } from '../../src/coordinator/prometheusText.js';
import { estimateEtaSeconds, RunStatus } from '../../src/coordinator/status.js';
import { startCli, tempDir } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { waitFor } from './waitFor.js';

/** What Prometheus 2.x sends when it scrapes. */
const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

const family = (families: ParsedFamily[], name: string) => {
  const found = families.find((f) => f.name === name);
  if (!found) throw new Error(`no ${name} in the scrape`);
  return found;
};

describe('content negotiation', () => {
  it('gives the text format to scrapers and JSON to browsers and scripts', () => {
    expect(wantsPrometheusText(PROMETHEUS_ACCEPT)).toBe(true);
    expect(wantsPrometheusText('text/plain;version=0.0.4')).toBe(true);
    expect(wantsPrometheusText('application/openmetrics-text; version=1.0.0')).toBe(true);
    expect(wantsPrometheusText('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')).toBe(false);
    expect(wantsPrometheusText('*/*')).toBe(false);
    expect(wantsPrometheusText(undefined)).toBe(false);
    expect(wantsPrometheusText('application/json')).toBe(false);
    // axios' default: JSON is asked for as much as text, so JSON it is.
    expect(wantsPrometheusText('application/json, text/plain, */*')).toBe(false);
    expect(wantsPrometheusText('text/plain;q=0')).toBe(false);
  });

  it('escapes label values as the format requires', () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });
});

describe('estimateEtaSeconds', () => {
  it('is the steps left at the pace so far, unknown before two timed steps, 0 at the end', () => {
    expect(estimateEtaSeconds(30, 10, 5)).toBe(15);
    expect(estimateEtaSeconds(30, 1, 5)).toBeUndefined();
    expect(estimateEtaSeconds(0, 0, 0)).toBe(0);
  });
});

describe('the text format from a run status', () => {
  it('parses, with HELP and TYPE for every family, and counts each step once in the histogram', () => {
    const status = new RunStatus('run "x"', 2);
    for (const [step, total] of [[1, 40], [2, 300], [3, 700]]) {
      status.recordStep({ type: 'step', step, total_steps: 10, epoch: 1, loss: 2, accuracy: 0.5, lr: 1e-3, images_per_s: 50, bytes: 100, workers: 2, timings_ms: { compute: total / 2, total } });
    }
    status.recordEpoch({ type: 'epoch', epoch: 1, loss: 1.9, train_accuracy: 0.4, test_accuracy: 0.625, val_accuracy: 0.5, val_loss: 1.8 });
    const families = parsePrometheusTextFormat(prometheusText(status));
    for (const f of families) {
      expect(f.name, f.name).toMatch(/^dsdc_[a-z_]+$/);
      expect(f.help, f.name).not.toBe('');
      expect(f.type, f.name).not.toBe('UNTYPED');
      if (f.type === 'COUNTER') expect(f.name).toMatch(/_total$/);
    }
    const histogram = family(families, 'dsdc_step_seconds');
    expect(histogram.type).toBe('HISTOGRAM');
    expect(histogram.metrics[0]).toMatchObject({ count: '3', sum: String(0.04 + 0.3 + 0.7) });
    expect(histogram.metrics[0].buckets).toMatchObject({ '0.025': '0', '0.05': '1', '0.5': '2', '1': '3', '+Inf': '3' });
    expect(family(families, 'dsdc_step_phase_seconds_total').metrics).toEqual([{ labels: { phase: 'compute' }, value: String((20 + 150 + 350) / 1000) }]);
    expect(family(families, 'dsdc_test_accuracy').metrics[0].value).toBe('0.625');
    expect(family(families, 'dsdc_validation_accuracy').metrics[0].value).toBe('0.5');
    expect(family(families, 'dsdc_run_info').metrics[0].labels).toEqual({ run_id: 'run "x"' });
  });
});

describe('/metrics/prometheus behind the token', () => {
  let server: Server;
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('asks for the token off loopback, as /metrics does, and answers with it', async () => {
    const token = 'a'.repeat(40);
    server = createServer(handleHttp(new RunStatus('run-1', 1), { token, loopbackOnly: false, allowedHosts: new AllowedHosts('127.0.0.1') }));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect((await fetch(`${base}/metrics/prometheus`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { accept: PROMETHEUS_ACCEPT } })).status).toBe(401);
    const ok = await fetch(`${base}/metrics/prometheus`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(family(parsePrometheusTextFormat(await ok.text()), 'dsdc_steps_total').metrics[0].value).toBe('0');
    // A foreign Host (DNS rebinding) reads nothing, token or not.
    const port = (server.address() as AddressInfo).port;
    const foreign = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/metrics/prometheus', headers: { host: 'evil.example', authorization: `Bearer ${token}` } }, (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(foreign).toBe(421);
  });
});

describe('a scrape of a real two-worker run', () => {
  const runDir = tempDir('prometheus');
  let train: ChildProcess | undefined;
  afterAll(async () => {
    if (train && train.exitCode === null && train.signalCode === null) {
      const exited = once(train, 'exit');
      train.kill('SIGTERM');
      await exited;
    }
    rmSync(runDir, { recursive: true, force: true });
  });

  it('names every worker and its state, counts the steps and the bytes', async () => {
    const port = await freePort();
    train = startCli(['train', '--workers', '2', '--backend', 'wasm', '--max-steps', '200', '--batch-size', '32', '--train-limit', '512', '--test-limit', '50', '--no-eval', '--log-level', 'warn', '--port', String(port), '--run-dir', runDir]);
    let stderr = '';
    train.stderr!.on('data', (d) => (stderr += d));
    const base = `http://127.0.0.1:${port}`;
    const scrape = async (path: string, accept?: string) => {
      const response = await fetch(`${base}${path}`, accept ? { headers: { accept } } : {}).catch(() => undefined);
      return response?.ok ? { type: response.headers.get('content-type'), body: await response.text() } : undefined;
    };
    await waitFor(async () => {
      if (train!.exitCode !== null) throw new Error(`train exited early:\n${stderr}`);
      const json = await scrape('/metrics');
      return json && JSON.parse(json.body).step >= 3;
    }, 90_000, 'three steps');

    const negotiated = (await scrape('/metrics', PROMETHEUS_ACCEPT))!;
    expect(negotiated.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusTextFormat(negotiated.body);
    const steps = Number(family(families, 'dsdc_steps_total').metrics[0].value);
    expect(steps).toBeGreaterThanOrEqual(3);
    // One scrape is one moment: the histogram has seen exactly the steps counted.
    expect(family(families, 'dsdc_step_seconds').metrics[0].count).toBe(String(steps));
    expect(Number(family(families, 'dsdc_bytes_received_total').metrics[0].value)).toBeGreaterThan(0);
    expect(Number(family(families, 'dsdc_bytes_sent_total').metrics[0].value)).toBeGreaterThan(0);
    expect(Number(family(families, 'dsdc_images_per_second').metrics[0].value)).toBeGreaterThan(0);
    expect(Number(family(families, 'dsdc_planned_steps').metrics[0].value)).toBe(200);
    const states = family(families, 'dsdc_worker_state').metrics;
    expect([...new Set(states.map((m) => m.labels!.worker))].sort()).toEqual(['local-0', 'local-1']);
    for (const worker of ['local-0', 'local-1']) {
      const mine = states.filter((m) => m.labels!.worker === worker);
      expect(mine.map((m) => m.labels!.state).sort()).toEqual([...WORKER_STATES].sort());
      const current = mine.filter((m) => m.value === '1').map((m) => m.labels!.state);
      expect(current).toHaveLength(1);
      expect(['idle', 'computing']).toContain(current[0]);
    }
    const phases = family(families, 'dsdc_step_phase_seconds_total').metrics.map((m) => m.labels!.phase);
    expect(phases).toEqual(expect.arrayContaining(['compute', 'transfer', 'aggregate', 'apply', 'broadcast']));

    const path = (await scrape('/metrics/prometheus'))!;
    expect(family(parsePrometheusTextFormat(path.body), 'dsdc_run_phase').metrics.find((m) => m.value === '1')!.labels).toEqual({ phase: 'training' });
    // The JSON is still what a browser or curl gets.
    expect(JSON.parse((await scrape('/metrics', '*/*'))!.body).workers).toHaveLength(2);
  }, 150_000);
});
