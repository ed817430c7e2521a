// Builds a self-contained copy of the CLI for a machine with Node but no npm and no registry:
// one esbuild bundle (ES modules, split into chunks so that tfjs-core exists once) laid out like
// this repository, so that every file a module finds next to itself is where it expects it.
//
//   APP/package.json                     marks APP as the package root (dataset cache in APP/data)
//   APP/bin/dsdc-dist.js                 what `train` spawns for its workers; imports the bundle
//   APP/dist/cli.mjs, chunk-*.mjs        the bundle; tfjs-backend-wasm's .wasm files beside it
//   APP/kernels/dsdc_kernels{,_fma}.wasm our wasm kernels (both builds), found from src/ops/wasm as in the repo
//   APP/src/**/{html,css,js,wgsl,...}    the files src/ modules read at run time (dashboard, …)
//   APP/node_modules/webgpu/             the Dawn binding as published, dawn.node in dist/linux-x64
//   APP/node_modules/@tensorflow/tfjs-backend-{wasm,webgpu}/
//                                        re-export the bundled copies, for import(variable)
//
// Why each trick:
// - `import.meta.url` in our sources becomes the URL the file has in the repository layout
//   under APP, so `new URL('../../../kernels/x.wasm', import.meta.url)` works unchanged.
// - The backends are loaded with import() of a variable, which no bundler can follow; those
//   imports resolve at run time from APP/dist to APP/node_modules, where a tiny package
//   re-exports the bundled entry of the same name (sharing the bundle's tfjs-core chunk).
// - A source that runs one of our .ts files in a child process (`node --import tsx FILE.ts`)
//   gets that file bundled as an entry of its own, and runs the bundled .mjs without tsx.
// - `webgpu` stays external: it finds dawn.node next to its own index.js.
// - The CJS builds of tfjs read `__dirname` and `require`: the banner gives them the chunk's.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const requireFromRepo = createRequire(path.join(REPO, 'package.json'));

/** Packages the backend imports by a variable name, resolved at run time next to the bundle. */
export const RUNTIME_RESOLVED_PACKAGES = ['@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu'] as const;
/** Never bundled: Dawn's binding (it finds dawn.node beside its index.js) and the optional native tfjs packages. */
const EXTERNAL = ['webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];
/** Source files besides TypeScript that modules read at run time. */
const RUNTIME_SOURCE_EXT = new Set(['.html', '.css', '.js', '.mjs', '.json', '.wgsl', '.wasm', '.svg', '.png']);
const DAWN_PLATFORM_DIR = `${process.platform}-${process.arch}`;

const BANNER = [
  "import { createRequire as __dsdcCreateRequire } from 'node:module';",
  "import { fileURLToPath as __dsdcFileURLToPath } from 'node:url';",
  'const require = __dsdcCreateRequire(import.meta.url);',
  'const __dsdc_filename = __dsdcFileURLToPath(import.meta.url);',
  "const __dsdc_dirname = __dsdcFileURLToPath(new URL('.', import.meta.url));",
  "const __dsdcAppRoot = new URL('../', import.meta.url);",
].join('\n');

function safeName(pkg: string): string {
  return pkg.replace(/^@/, '').replace(/[/]/g, '-');
}

const TSX_SPAWN = /'--import',\s*'tsx',\s*/;
const TSX_SPAWN_ALL = new RegExp(TSX_SPAWN.source, 'g');
const TS_FILE_URL = /new URL\('([^']+\.ts)', import\.meta\.url\)/g;

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    return statSync(full).isDirectory() ? sourceFiles(full) : full.endsWith('.ts') ? [full] : [];
  });
}

/** Our .ts files that some source runs as a child process through tsx: repo path → entry name. */
function spawnedScripts(): Map<string, string> {
  const scripts = new Map<string, string>();
  for (const file of sourceFiles(path.join(REPO, 'src'))) {
    const source = readFileSync(file, 'utf8');
    if (!TSX_SPAWN.test(source)) continue;
    for (const m of source.matchAll(TS_FILE_URL)) {
      const rel = toPosix(path.relative(REPO, path.resolve(path.dirname(file), m[1])));
      scripts.set(rel, `script-${rel.replace(/\.ts$/, '').replace(/[^\w]+/g, '-')}`);
    }
  }
  return scripts;
}

/** In a source that spawns one of `scripts`, the bundled entry runs instead, without tsx. */
function rewriteSpawnedScripts(source: string, fileRel: string, scripts: Map<string, string>): string {
  if (!TSX_SPAWN.test(source)) return source;
  return source.replace(TSX_SPAWN_ALL, '').replace(TS_FILE_URL, (whole, target: string) => {
    const rel = toPosix(path.join(path.dirname(fileRel), target));
    const entry = scripts.get(rel);
    return entry ? `new URL(${JSON.stringify(`dist/${entry}.mjs`)}, __dsdcAppRoot)` : whole;
  });
}

/** Rewrites `import.meta.url` in our own sources to the file's URL in the APP layout. */
function repoLayoutUrls(scripts: Map<string, string>): esbuild.Plugin {
  return {
  name: 'repo-layout-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      const rel = path.relative(REPO, args.path);
      if (rel.startsWith('..') || rel.startsWith('node_modules')) return undefined;
      const source = rewriteSpawnedScripts(readFileSync(args.path, 'utf8'), toPosix(rel), scripts);
      const url = `new URL(${JSON.stringify(toPosix(rel))}, __dsdcAppRoot).href`;
      return { contents: source.replaceAll('import.meta.url', url), loader: 'ts' };
    });
  },
  };
}

const PACKAGE_ENTRY_NAMESPACE = 'dsdc-package-entry';

/** A module per runtime-resolved package that names each export (CJS exports are not static): an entry, and what our imports of it get. */
const packageEntries: esbuild.Plugin = {
  name: 'runtime-package-entries',
  setup(build) {
    // Our own import('pkg') gets the same module: esbuild's import() of a CJS chunk has no named exports.
    const exact = new RegExp(`^(${RUNTIME_RESOLVED_PACKAGES.map((p) => p.replace(/[/.]/g, '\\$&')).join('|')})$`);
    build.onResolve({ filter: exact }, (args) =>
      args.namespace === PACKAGE_ENTRY_NAMESPACE ? undefined : { path: args.path, namespace: PACKAGE_ENTRY_NAMESPACE },
    );
    build.onResolve({ filter: new RegExp(`^${PACKAGE_ENTRY_NAMESPACE}:`) }, (args) => ({
      path: args.path.slice(PACKAGE_ENTRY_NAMESPACE.length + 1),
      namespace: PACKAGE_ENTRY_NAMESPACE,
    }));
    build.onLoad({ filter: /.*/, namespace: PACKAGE_ENTRY_NAMESPACE }, (args) => {
      const names = Object.keys(requireFromRepo(args.path) as object).filter((n) => n !== 'default' && /^[A-Za-z_$][\w$]*$/.test(n));
      const contents = `import * as m from '${args.path}';\nexport const { ${names.join(', ')} } = m;\nexport default m;\n`;
      return { contents, resolveDir: REPO, loader: 'js' };
    });
  },
};

function packageEntryPoints(): Record<string, string> {
  return Object.fromEntries(RUNTIME_RESOLVED_PACKAGES.map((pkg) => [`pkg-${safeName(pkg)}`, `${PACKAGE_ENTRY_NAMESPACE}:${pkg}`]));
}

function writeRuntimePackageShims(app: string): void {
  for (const pkg of RUNTIME_RESOLVED_PACKAGES) {
    const dir = path.join(app, 'node_modules', pkg);
    mkdirSync(dir, { recursive: true });
    const depth = pkg.split('/').length + 1;
    const target = `${'../'.repeat(depth)}dist/pkg-${safeName(pkg)}.mjs`;
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: pkg, type: 'module', main: 'index.mjs', exports: './index.mjs' }, null, 2));
    writeFileSync(path.join(dir, 'index.mjs'), `export * from '${target}';\nexport { default } from '${target}';\n`);
  }
}

function copyWebgpuPackage(app: string): void {
  const from = path.dirname(requireFromRepo.resolve('webgpu/package.json'));
  const to = path.join(app, 'node_modules', 'webgpu');
  for (const file of ['package.json', 'index.js', 'LICENSE.md']) cpSync(path.join(from, file), path.join(to, file));
  cpSync(path.join(from, 'dist', DAWN_PLATFORM_DIR), path.join(to, 'dist', DAWN_PLATFORM_DIR), { recursive: true });
}

function copyRuntimeSources(fromDir: string, toDir: string): void {
  for (const entry of readdirSync(fromDir)) {
    const from = path.join(fromDir, entry);
    if (statSync(from).isDirectory()) copyRuntimeSources(from, path.join(toDir, entry));
    else if (RUNTIME_SOURCE_EXT.has(path.extname(entry))) cpSync(from, path.join(toDir, entry));
  }
}

export async function buildApp(app: string): Promise<void> {
  rmSync(app, { recursive: true, force: true });
  const dist = path.join(app, 'dist');
  const scripts = spawnedScripts();
  const scriptEntries = Object.fromEntries([...scripts].map(([rel, entry]) => [entry, path.join(REPO, rel)]));
  const result = await esbuild.build({
    absWorkingDir: REPO,
    entryPoints: { cli: path.join(REPO, 'src/cli/main.ts'), ...packageEntryPoints(), ...scriptEntries },
    outdir: dist,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    banner: { js: BANNER },
    define: { __dirname: '__dsdc_dirname', __filename: '__dsdc_filename' },
    plugins: [repoLayoutUrls(scripts), packageEntries],
    logLevel: 'error',
    metafile: true,
  });
  if (result.errors.length > 0) throw new Error(`esbuild failed: ${result.errors.map((e) => e.text).join('; ')}`);

  const wasmDist = path.join(path.dirname(requireFromRepo.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  for (const file of readdirSync(wasmDist).filter((f) => f.endsWith('.wasm'))) cpSync(path.join(wasmDist, file), path.join(dist, file));
  mkdirSync(path.join(app, 'bin'), { recursive: true });
  writeFileSync(path.join(app, 'bin', 'dsdc-dist.js'), "#!/usr/bin/env node\n// The bundled CLI (bench/gpu/bundle.ts); `train` starts its workers through this file.\nawait import('../dist/cli.mjs');\n");
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'dsdc-dist-bundle', private: true, type: 'module' }, null, 2));
  cpSync(path.join(REPO, 'kernels'), path.join(app, 'kernels'), { recursive: true, filter: (f) => statSync(f).isDirectory() || f.endsWith('.wasm') });
  copyRuntimeSources(path.join(REPO, 'src'), path.join(app, 'src'));
  copyWebgpuPackage(app);
  writeRuntimePackageShims(app);
  if (!existsSync(path.join(app, 'node_modules', 'webgpu', 'dist', DAWN_PLATFORM_DIR, 'dawn.node'))) {
    throw new Error(`webgpu has no dawn.node for ${DAWN_PLATFORM_DIR}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const app = process.argv[2];
  if (!app) {
    process.stderr.write('usage: node --import tsx bench/gpu/bundle.ts OUT_DIR\n');
    process.exit(2);
  }
  await buildApp(path.resolve(app));
  process.stdout.write(`bundle: ${path.resolve(app)}\n`);
}
