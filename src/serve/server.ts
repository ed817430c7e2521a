// The drawing page's HTTP server: the page, its bundled script, and the checkpoint's model
// files exactly as written (model.json and the weight files it lists, checksums verified at
// start). The model runs in the browser; this server computes nothing.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadCheckpoint } from '../checkpoint/checkpoint.js';
import { CheckpointError } from '../checkpoint/errors.js';
import { readVerifiedFiles } from '../checkpoint/manifest.js';
import { MODEL_JSON_FILE, WEIGHTS_FILE } from '../checkpoint/tfjsFiles.js';
import { bundlePageScript, PAGE_HTML } from './bundle.js';

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '127.0.0.1';
export const MODEL_PREFIX = '/model/';

export interface ServeOptions {
  checkpoint: string;
  port?: number;
  host?: string;
  log?: (message: string) => void;
}

export interface RunningServer {
  url: string;
  checkpointDir: string;
  server: Server;
  close(): Promise<void>;
}

interface Asset {
  type: string;
  body: string | Uint8Array;
}

/** Reads the checkpoint (a run dir: its newest valid one) into the model files the page fetches. */
export async function modelAssets(checkpoint: string, log: (m: string) => void): Promise<{ dir: string; assets: Map<string, Asset> }> {
  const loaded = await loadCheckpoint(checkpoint, { log });
  for (const t of loaded.optimizerWeights) t.tensor.dispose();
  const files = await readVerifiedFiles(loaded.dir, [MODEL_JSON_FILE, WEIGHTS_FILE]);
  const modelJson = JSON.parse(new TextDecoder().decode(files.get(MODEL_JSON_FILE))) as { weightsManifest: Array<{ paths: string[] }> };
  const assets = new Map<string, Asset>([[MODEL_PREFIX + MODEL_JSON_FILE, { type: 'application/json', body: files.get(MODEL_JSON_FILE)! }]]);
  // Only the files model.json names are served, by those names: nothing else of the disk is reachable.
  for (const path of modelJson.weightsManifest.flatMap((group) => group.paths)) {
    const body = files.get(path);
    if (body === undefined) throw new CheckpointError('CKPT_CORRUPT', `${loaded.dir}/${MODEL_JSON_FILE}: names weights file '${path}', which the manifest does not list`);
    assets.set(MODEL_PREFIX + path, { type: 'application/octet-stream', body });
  }
  return { dir: loaded.dir, assets };
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const log = opts.log ?? (() => {});
  const { dir, assets } = await modelAssets(opts.checkpoint, log);
  assets.set('/', { type: 'text/html; charset=utf-8', body: await readFile(PAGE_HTML, 'utf8') });
  assets.set('/app.js', { type: 'text/javascript; charset=utf-8', body: await bundlePageScript() });
  assets.set('/healthz', { type: 'text/plain; charset=utf-8', body: 'ok\n' });

  const server = createServer((req, res) => respond(assets, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? DEFAULT_PORT, opts.host ?? DEFAULT_HOST, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/`,
    checkpointDir: dir,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function respond(assets: Map<string, Asset>, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end(`${req.method} is not supported; use GET\n`);
    return;
  }
  // Only the path matters; parsing it alone keeps odd request targets such as '//' from throwing.
  const path = (req.url ?? '/').split(/[?#]/)[0];
  const asset = assets.get(path === '/index.html' ? '/' : path);
  if (asset === undefined) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`${path} not found\n`);
    return;
  }
  // no-store: a restarted server may serve another checkpoint under the same URLs.
  res.writeHead(200, { 'content-type': asset.type, 'content-length': Buffer.byteLength(asset.body), 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : asset.body);
}
