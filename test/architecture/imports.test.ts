// The dependency direction of src/ is the table in docs/design.md ("The map of src/"): every
// import of a module in src/ must be allowed by its folder's row. This reads both, so a new
// import that points the wrong way, or a new folder nobody placed on the map, fails here.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

const SRC = join(REPO_ROOT, 'src');
const DESIGN = join(REPO_ROOT, 'docs', 'design.md');
/** Folders whose subfolders are placed on the map one by one; elsewhere a subfolder belongs to its parent. */
const SPLIT_FOLDERS = new Set(['training']);
/** The tfjs backend packages only src/backend may load (by import or by name). */
const BACKEND_PACKAGES = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-backend-wasm'];
const SCHEMA_LIBRARY = '@sinclair/typebox';

interface Import {
  file: string;
  specifier: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|js|mjs)$/.test(name) ? [path] : [];
  });
}

/** Static imports and re-exports (also multi-line) and dynamic import() with a literal. */
export function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: string[] = [];
  for (const match of code.matchAll(/^\s*(?:import|export)\b[^'"`;]*?(?:\bfrom\s*)?['"]([^'"]+)['"]/gm)) found.push(match[1]);
  for (const match of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(match[1]);
  return found;
}

/** The map's unit a src path belongs to: 'checkpoint', 'training/loop', 'training' (its own files). */
function folderOf(absolutePath: string): string {
  const parts = relative(SRC, absolutePath).split(/[\\/]/);
  if (SPLIT_FOLDERS.has(parts[0]) && parts.length > 2) return `${parts[0]}/${parts[1]}`;
  return parts[0];
}

/** The design doc's table: folder → the folders it may import ('*' for "every folder above"). */
function documentedMap(): Map<string, Set<string> | '*'> {
  const text = readFileSync(DESIGN, 'utf8');
  const section = text.slice(text.indexOf('## The map of `src/`'));
  const rows = new Map<string, Set<string> | '*'>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const folder = /^`([\w/]+)\/`$/.exec(cells[1] ?? '')?.[1];
    if (!folder || cells.length < 5) continue;
    const allowed = cells[3];
    rows.set(folder, allowed.startsWith('every folder') ? '*' : new Set([...allowed.matchAll(/`([\w/]+)`/g)].map((m) => m[1])));
  }
  return rows;
}

const files = sourceFiles(SRC);
const imports: Import[] = files.flatMap((file) => importsOf(readFileSync(file, 'utf8')).map((specifier) => ({ file, specifier })));
const srcImports = imports
  .filter((i) => i.specifier.startsWith('.'))
  .map((i) => ({ ...i, target: resolve(dirname(i.file), i.specifier) }))
  // Files outside src/ (the compiled wasm kernels in kernels/) are assets, not modules of the map.
  .filter((i) => !relative(SRC, i.target).startsWith('..'))
  .map((i) => ({ ...i, from: folderOf(i.file), to: folderOf(i.target) }))
  .filter((i) => i.from !== i.to);
const where = (i: Import) => `${relative(REPO_ROOT, i.file)} imports '${i.specifier}'`;

describe('the dependency direction of src/', () => {
  const map = documentedMap();

  it('finds imports, including multi-line, re-exports and dynamic ones', () => {
    const text = "import {\n  a,\n  b,\n} from './x.js';\nexport { c } from '../y.js';\nconst z = await import('../z.js');\n// import { no } from './comment.js';\nimport './side.js';";
    expect(importsOf(text)).toEqual(['./x.js', '../y.js', './side.js', '../z.js']);
  });

  it('places every folder of src/ on the map in docs/design.md', () => {
    const unplaced = [...new Set(files.map(folderOf))].filter((folder) => !map.has(folder)).sort();
    expect(unplaced, 'folders missing from the table in docs/design.md').toEqual([]);
  });

  it('imports only what the map allows each folder', () => {
    const broken = srcImports
      .filter((i) => {
        const allowed = map.get(i.from);
        return allowed !== undefined && allowed !== '*' && !allowed.has(i.to);
      })
      .map((i) => `${where(i)} (${i.from} → ${i.to})`);
    expect(broken).toEqual([]);
  });

  it('has nothing import cli', () => {
    expect(srcImports.filter((i) => i.to === 'cli').map(where)).toEqual([]);
  });

  it('keeps tfjs out of protocol and schemas', () => {
    const offending = imports.filter((i) => ['protocol', 'schemas'].includes(folderOf(i.file)) && i.specifier.startsWith('@tensorflow/'));
    expect(offending.map(where)).toEqual([]);
  });

  it('loads the tfjs backend packages only in backend', () => {
    const offending = files
      .filter((file) => folderOf(file) !== 'backend')
      .filter((file) => {
        const text = readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, '');
        return BACKEND_PACKAGES.some((name) => text.includes(`'${name}'`) || text.includes(`"${name}"`));
      });
    expect(offending.map((file) => relative(REPO_ROOT, file))).toEqual([]);
  });

  it('uses the schema library only in schemas and in protocol (the wire messages\' schemas)', () => {
    const offending = imports.filter((i) => !['schemas', 'protocol'].includes(folderOf(i.file)) && i.specifier.startsWith(SCHEMA_LIBRARY));
    expect(offending.map(where)).toEqual([]);
  });
});
