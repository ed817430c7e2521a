// `dsdc-dist coordinator`: holds the master weights and the optimizer, serves workers over
// WebSocket (+ /healthz and /metrics over HTTP on the same port), and runs the shared training
// loop with gradients from the worker pool.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { initHostBackend, type BackendChoice } from '../backend/index.js';
import type { Logger } from '../log/logger.js';
import { CloseCode, DEFAULT_WIRE_DTYPE, maxPayloadBytes, tensorsFromMap, variableDtypes, type WireDtype } from '../protocol/index.js';
import type { TrainConfig } from '../training/setup/config.js';
import { ProgressReporter, type ProgressMode } from '../training/loop/progress.js';
import { prepareRun, sessionInputs } from '../training/setup/runSetup.js';
import { runSession, type SessionResult } from '../training/loop/session.js';
import { buildSummary, type RunSummary } from '../training/loop/summary.js';
import { AllowedHosts } from './allowedHosts.js';
import { contributionChecksFor } from './contributionChecks.js';
import { CoordinatorError } from './errors.js';
import { HANDSHAKE_MAX_PAYLOAD_BYTES } from './handshake.js';
import { handleHttp, LOOPBACK_HOSTS, upgradeRefusal } from './httpEndpoints.js';
import { DEFAULT_HEARTBEAT_TIMEOUT_MS } from './heartbeat.js';
import { RemoteGradientSource, type NonFinitePolicy } from './remoteSource.js';
import { RunStatus } from './status.js';
import { WorkerPool } from './workerPool.js';

export const DEFAULT_PORT = 7070;
export const DEFAULT_JOIN_TIMEOUT_MS = 300_000;
export const DEFAULT_STEP_TIMEOUT_MS = 120_000;

export interface CoordinatorOptions {
  config: TrainConfig;
  runDir: string;
  resume: boolean;
  backend: BackendChoice;
  workers: number;
  host: string;
  port: number;
  /** Further names clients may use to reach it (Host and Origin checks), besides loopback and `host`. */
  allowedHosts?: readonly string[];
  /** The run's shared secret: every run has one (the CLI makes one when none is given). */
  token: string;
  /** Most connections in their handshake at once. */
  maxPendingHandshakes?: number;
  /** Frames refused in a row after which a worker is evicted. */
  maxRefusedInRow?: number;
  log: Logger;
  progress: ProgressMode;
  stop?: AbortSignal;
  checkpointRetryMs?: number;
  /** The flags the user typed (a resume reports the ones it ignores). */
  givenFlags?: ReadonlySet<string>;
  joinTimeoutMs?: number;
  stepTimeoutMs?: number;
  nonFinitePolicy?: NonFinitePolicy;
  /** Silence after which a worker is treated as stalled (ms). */
  heartbeatTimeoutMs?: number;
  /** Serve wss:// (and https://) with this certificate and key (PEM); absent: plain ws://. */
  tls?: { cert: Buffer | string; key: Buffer | string };
  /** The resolved settings, written to <runDir>/config.yaml. */
  settings?: string;
  /** Weights of a new run (a fine-tune run's, from its checkpoint); absent: seeded ones. */
  initialWeights?: Map<string, Float32Array>;
  /** Called once the port is bound, with the URL workers should connect to. */
  onListening?: (url: string) => void;
  /**
   * Element type of gradients and broadcast weights on the wire (default float32); the master
   * weights and Adam stay float32 here. Workers learn it from the welcome.
   */
  wireDtype?: WireDtype;
}

export async function runCoordinator(o: CoordinatorOptions): Promise<{ summary: RunSummary; result: SessionResult }> {
  const { log } = o;
  // A launcher (train, finetune) starts its own workers once the port is bound.
  const launchesWorkers = o.onListening !== undefined;
  const backend = await initHostBackend(o.backend, (m) => log.debug(m));
  const run = await prepareRun(o.config, o.runDir, o.resume, log, o.initialWeights, o.givenFlags, o.settings);
  const { state } = run;
  const runId = randomUUID();
  const status = new RunStatus(runId, o.workers);
  const wireDtype = o.wireDtype ?? DEFAULT_WIRE_DTYPE;
  const dtypeOf = variableDtypes(wireDtype, state.movingStatisticNames);
  const paramCount = [...state.weights.values()].reduce((s, v) => s + v.length, 0);
  const limits = { maxPayloadBytes: maxPayloadBytes(paramCount, { maxIndices: 2 * run.config.batchSize }) };

  const allowedHosts = new AllowedHosts(o.host, o.allowedHosts);
  const servedPort = { port: 0 };
  const onRequest = handleHttp(status, { allowedHosts, token: o.token, loopbackOnly: LOOPBACK_HOSTS.has(o.host) });
  const http = o.tls ? createTlsServer({ cert: o.tls.cert, key: o.tls.key }, onRequest) : createServer(onRequest);
  const pool = new WorkerPool({
    token: o.token,
    maxPendingHandshakes: o.maxPendingHandshakes,
    maxRefusedInRow: o.maxRefusedInRow,
    capacity: o.workers,
    limits,
    quietJoins: launchesWorkers,
    log,
    welcome: (_hello, index) => ({
      type: 'welcome',
      runId,
      config: run.config,
      modelSpec: run.config.model,
      weightsVersion: state.weightsVersion,
      weights: tensorsFromMap(state.weights, state.shapes, undefined, dtypeOf),
      trainable: state.trainableNames,
      statistics: state.movingStatisticNames,
      shardInfo: { workerIndex: index, workers: o.workers },
      wireDtype,
    }),
    fullWeights: () => ({
      type: 'weights',
      weightsVersion: state.weightsVersion,
      step: state.position.globalStep,
      tensors: tensorsFromMap(state.weights, state.shapes, undefined, dtypeOf),
      full: true,
    }),
    heartbeatTimeoutMs: o.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS,
  });
  // Until a worker authenticates it may send a hello-sized frame only; the pool raises the limit after.
  const wss = new WebSocketServer({
    server: http,
    maxPayload: HANDSHAKE_MAX_PAYLOAD_BYTES,
    verifyClient: ({ req, origin }, done) => {
      const refusal = upgradeRefusal(req, origin, allowedHosts, servedPort.port) ?? pool.upgradeRefusal(req.socket.remoteAddress ?? 'unknown');
      if (!refusal) return done(true);
      log.warn(`refused a WebSocket upgrade from ${req.socket.remoteAddress}:${req.socket.remotePort}: ${refusal.reason}`);
      done(false, refusal.status, refusal.reason);
    },
  });
  // ws re-emits the HTTP server's errors (EADDRINUSE above all) on itself; listen() reports them
  // as one line, so this copy must not become an unhandled 'error' event with a stack trace.
  wss.on('error', (error) => log.debug(`websocket server: ${error.message}`));
  pool.serve(wss);
  const source = new RemoteGradientSource({
    pool,
    shapes: state.shapes,
    trainableNames: state.trainableNames,
    movingStatisticNames: state.movingStatisticNames,
    log,
    stepTimeoutMs: o.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS,
    rejoinTimeoutMs: o.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS,
    nonFinitePolicy: o.nonFinitePolicy ?? 'skip',
    weightsVersion: () => state.weightsVersion,
    stop: o.stop,
    numbers: await contributionChecksFor(run, o.workers, log),
    wireDtype,
  });
  status.attach(pool);

  const url = await listen(http, o.host, o.port, o.tls ? 'wss' : 'ws');
  servedPort.port = (http.address() as AddressInfo).port;
  const dashboardUrl = url.replace(/^ws/, 'http');
  // Workers started elsewhere need the address; a launcher's own workers do not, and the start line has the dashboard.
  (launchesWorkers ? log.debug : log.info)(`listening on ${url} (dashboard: ${dashboardUrl}/, metrics: ${dashboardUrl}/metrics); waiting for ${o.workers} worker(s)`);
  o.onListening?.(url);
  let stoppedEarly = false;
  let failure: string | undefined;
  try {
    // A stop request while waiting goes straight to the session, which checkpoints and returns.
    await pool.waitForWorkers(o.workers, o.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS, o.stop);
    const result = await runSession({
      ...sessionInputs(run, o.runDir),
      source,
      log,
      progress: new ProgressReporter(o.progress),
      where: describeWorkers(pool.all().filter((w) => w.state !== 'standby').map((w) => w.hello.backend), o.workers),
      dashboard: `${dashboardUrl}/`,
      onStep: (record) => status.recordStep(record),
      onEpoch: (record) => status.recordEpoch(record),
      stop: o.stop,
      checkpointRetryMs: o.checkpointRetryMs,
    });
    status.finalTestAccuracy = result.evaluation?.accuracy;
    status.phase = 'finished';
    stoppedEarly = result.interrupted;
    // With webgpu the workers compute on their GPUs while this process stays on wasm.
    const computed = o.backend === 'webgpu' ? { backend: 'webgpu', device: `workers on webgpu (each logs its adapter); coordinator on ${backend.device}` } : backend;
    const summary = buildSummary(result, { backend: computed.backend, device: computed.device, workers: o.workers, runDir: o.runDir });
    return { summary, result };
  } catch (error) {
    status.phase = 'failed';
    failure = error instanceof Error ? error.message : String(error);
    throw error;
  } finally {
    // Workers end for good only when the run is done; otherwise the bye says why it stopped.
    if (status.phase === 'finished' && !stoppedEarly) pool.closeAll('run finished', CloseCode.RUN_FINISHED);
    else if (failure !== undefined) pool.closeAll(`run stopped: ${failure}`, CloseCode.RUN_FAILED);
    else pool.closeAll(`run stopped: ${stopReason(o.stop)}`, CloseCode.RUN_STOPPED);
    await closeServers(wss, http, log);
    run.localModel.dispose();
  }
}

/** `2 workers on wasm`, `2 workers (webgpu, wasm)`: the backends the workers reported. */
export function describeWorkers(backends: readonly string[], expected: number): string {
  const count = backends.length || expected;
  const distinct = [...new Set(backends)];
  const noun = `${count} worker${count === 1 ? '' : 's'}`;
  if (distinct.length === 0) return noun;
  return distinct.length === 1 ? `${noun} on ${distinct[0]}` : `${noun} (${distinct.join(', ')})`;
}

function stopReason(stop: AbortSignal | undefined): string {
  const reason = stop?.reason;
  if (!stop?.aborted) return 'it ended before its last step';
  return reason instanceof Error ? `${reason.message} (stop requested)` : 'stop requested';
}

export function listen(http: Server, host: string, port: number, scheme: 'ws' | 'wss'): Promise<string> {
  return new Promise((resolve, reject) => {
    http.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new CoordinatorError('PORT_IN_USE', `port ${port} on ${host} is already in use; pick another with --port`, { cause: error })
          : new CoordinatorError('LISTEN_FAILED', `cannot listen on ${host}:${port}: ${error.message}; check --host and --port`, { cause: error }),
      ),
    );
    http.listen(port, host, () => {
      const address = http.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve(`${scheme}://${shownHost}:${address.port}`);
    });
  });
}

/** How long the connections still open at the end (worker sockets closing, a dashboard) get to end by themselves. */
export const CLOSE_GRACE_MS = 5_000;

/**
 * Stops taking connections and waits for the open ones to end, for at most `graceMs`: then the
 * rest are cut (said at warn), so that a finished run exits even when a peer never completes its
 * close (an HTTP server's close waits for every connection, upgraded ones too, and `ws` waits
 * 30 s for a close frame).
 */
export async function closeServers(wss: WebSocketServer, http: Server, log?: Logger, graceMs = CLOSE_GRACE_MS): Promise<void> {
  const closed = Promise.all([
    new Promise<void>((resolve) => wss.close(() => resolve())),
    new Promise<void>((resolve) => http.close(() => resolve())),
  ]);
  const cut = setTimeout(() => {
    const sockets = wss.clients.size;
    for (const client of wss.clients) client.terminate();
    http.closeAllConnections();
    log?.warn(`connections still open ${graceMs / 1000} s after the end (${sockets} WebSocket, the rest HTTP) were cut`);
  }, graceMs);
  try {
    await closed;
  } finally {
    clearTimeout(cut);
  }
}
