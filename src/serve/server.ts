// The drawing page's HTTP server: the page, its bundled script, and the checkpoint's model
// files exactly as written (model.json and the weight files it lists, checksums verified at
// start). The model runs in the browser; this server computes nothing.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadCheckpoint } from '../checkpoint/checkpoint.js';
import { CheckpointError } from '../checkpoint/errors.js';
import { readVerifiedFiles } from '../checkpoint/manifest.js';
import { MODEL_JSON_FILE, WEIGHTS_FILE } from '../checkpoint/tfjsFiles.js';
import { CONTENT_TYPES, StaticFiles } from '../http/staticFiles.js';
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

/** Reads the checkpoint (a run dir: its newest valid one) into the model files the page fetches. */
export async function modelAssets(checkpoint: string, log: (message: string) => void): Promise<{ dir: string; assets: StaticFiles }> {
  const loaded = await loadCheckpoint(checkpoint, { log });
  for (const t of loaded.optimizerWeights) t.tensor.dispose();
  const files = await readVerifiedFiles(loaded.dir, [MODEL_JSON_FILE, WEIGHTS_FILE]);
  const modelJson = JSON.parse(new TextDecoder().decode(files.get(MODEL_JSON_FILE))) as { weightsManifest: Array<{ paths: string[] }> };
  // no-store: a restarted server may serve another checkpoint under the same URLs.
  const assets = new StaticFiles({ cacheControl: 'no-store' }).set(MODEL_PREFIX + MODEL_JSON_FILE, { contentType: CONTENT_TYPES.json, body: files.get(MODEL_JSON_FILE)! });
  // Only the files model.json names are served, by those names: nothing else of the disk is reachable.
  for (const path of modelJson.weightsManifest.flatMap((group) => group.paths)) {
    const body = files.get(path);
    if (body === undefined) throw new CheckpointError('CKPT_CORRUPT', `${loaded.dir}/${MODEL_JSON_FILE}: names weights file '${path}', which the manifest does not list`);
    assets.set(MODEL_PREFIX + path, { contentType: CONTENT_TYPES.binary, body });
  }
  return { dir: loaded.dir, assets };
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const log = opts.log ?? (() => {});
  const { dir, assets } = await modelAssets(opts.checkpoint, log);
  assets.set('/', { contentType: CONTENT_TYPES.html, body: await readFile(PAGE_HTML, 'utf8') });
  assets.set('/app.js', { contentType: CONTENT_TYPES.javascript, body: await bundlePageScript() });
  assets.set('/healthz', { contentType: CONTENT_TYPES.text, body: 'ok\n' });

  const server = createServer((request, response) => assets.respond(request, response));
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
