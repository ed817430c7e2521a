// The relay's side towards its local workers: to them it is the coordinator. The same admission
// (pending-handshake cap, backoff of failing addresses), handshake (protocol version, mutual
// proof of the token), Host/Origin checks, frame limits, heartbeats and membership as the
// coordinator's, because it is the coordinator's WorkerPool; the same splitting, checking and
// count-weighted combining of parts, because it is the coordinator's RemoteGradientSource.
import { createServer, type Server } from 'node:http';
import { WebSocketServer } from 'ws';
import { closeServers, listen } from '../coordinator/coordinator.js';
import { AllowedHosts } from '../coordinator/allowedHosts.js';
import { HANDSHAKE_MAX_PAYLOAD_BYTES } from '../coordinator/handshake.js';
import { upgradeRefusal } from '../coordinator/httpEndpoints.js';
import { RemoteGradientSource } from '../coordinator/remoteSource.js';
import { WorkerPool } from '../coordinator/workerPool.js';
import type { Logger } from '../log/logger.js';
import { CloseCode, encodeMessage, maxPayloadBytes, type WeightsMessage } from '../protocol/index.js';
import type { RelayRun } from './relayRun.js';

/** How a relay serves its local workers: the part of its options that the relay's own server takes. */
export interface LocalServingOptions {
  token: string;
  /** Local workers this relay serves (its pool's capacity), and waits for before its first step. */
  workers: number;
  /** Where local workers connect (default loopback). */
  host: string;
  port: number;
  allowedHosts?: readonly string[];
  maxPendingHandshakes?: number;
  maxRefusedInRow?: number;
  /** How long to wait for a local worker's gradients; keep it below the coordinator's --step-timeout. */
  stepTimeoutMs: number;
  heartbeatTimeoutMs: number;
  log: Logger;
  stop?: AbortSignal;
}

export interface LocalWorkersServerOptions extends LocalServingOptions {
  run: RelayRun;
}

export class LocalWorkersServer {
  readonly pool: WorkerPool;
  readonly source: RemoteGradientSource;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly hosts: AllowedHosts;
  private port = 0;

  constructor(private readonly o: LocalWorkersServerOptions) {
    const { run, log } = o;
    const paramCount = [...run.weights.values()].reduce((s, v) => s + v.length, 0);
    const limits = { maxPayloadBytes: maxPayloadBytes(paramCount, { maxIndices: 2 * run.batchSize }) };
    this.hosts = new AllowedHosts(o.host, o.allowedHosts);
    this.http = createServer((request, response) => {
      response.writeHead(404, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(JSON.stringify({ error: 'this is a dsdc-dist relay: it serves workers over WebSocket only; the dashboard is on the coordinator' }));
    });
    this.pool = new WorkerPool({
      token: o.token,
      maxPendingHandshakes: o.maxPendingHandshakes,
      maxRefusedInRow: o.maxRefusedInRow,
      capacity: o.workers,
      limits,
      log,
      welcome: (_hello, index) => run.localWelcome(index, o.workers),
      fullWeights: () => run.fullWeights(),
      heartbeatTimeoutMs: o.heartbeatTimeoutMs,
    });
    this.wss = new WebSocketServer({
      server: this.http,
      maxPayload: HANDSHAKE_MAX_PAYLOAD_BYTES,
      verifyClient: ({ req, origin }, done) => {
        const refusal = upgradeRefusal(req, origin, this.hosts, this.port) ?? this.pool.upgradeRefusal(req.socket.remoteAddress ?? 'unknown');
        if (!refusal) return done(true);
        log.warn(`refused a WebSocket upgrade from ${req.socket.remoteAddress}:${req.socket.remotePort}: ${refusal.reason}`);
        done(false, refusal.status, refusal.reason);
      },
    });
    this.wss.on('error', (error) => log.debug(`websocket server: ${error.message}`));
    this.pool.serve(this.wss);
    this.source = new RemoteGradientSource({
      pool: this.pool,
      shapes: run.shapes,
      trainableNames: run.trainableNames,
      movingStatisticNames: run.statisticNames,
      log,
      stepTimeoutMs: o.stepTimeoutMs,
      // With no local worker left, the part fails within the step deadline and the coordinator goes on.
      rejoinTimeoutMs: o.stepTimeoutMs,
      // A local worker's NaN part is dropped here, so the relay's part is incomplete and fails upstream.
      nonFinitePolicy: 'skip',
      weightsVersion: () => run.version,
      wireDtype: run.wireDtype,
      stop: o.stop,
    });
  }

  /** Listens; resolves with the URL local workers connect to. */
  async listen(): Promise<string> {
    const url = await listen(this.http, this.o.host, this.o.port, 'ws');
    this.port = Number(new URL(url).port);
    return url;
  }

  /** Sends one weights message, encoded once, to every member. */
  broadcast(weights: WeightsMessage): void {
    const bytes = encodeMessage(weights);
    for (const worker of this.pool.active()) {
      worker.sendEncoded(bytes);
      worker.life.sentWeights(weights.weightsVersion);
    }
  }

  /** Ends the local workers' connections with the coordinator's verdict (bye + close code) and stops serving. */
  async close(reason: string, code: CloseCode): Promise<void> {
    this.pool.closeAll(reason, code);
    await closeServers(this.wss, this.http, this.o.log);
  }
}
