// The committed kernels/dsdc_kernels.wasm and kernels/dsdc_kernels_fma.wasm are build artefacts
// of kernels/dsdc_kernels.c. CI has no clang, so it checks instead that each sidecar records the
// current source and binary, and that each binary keeps the rules that make it safe to share
// the backend's memory.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { enableRelaxedSimd } from '../../src/ops/wasm/relaxedSimd.js';

const dir = new URL('../../kernels/', import.meta.url);
const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(new URL(file, dir))).digest('hex');

/** Section ids of a wasm binary, in order. */
function sectionIds(bytes: Buffer): number[] {
  const sections: number[] = [];
  for (let at = 8; at < bytes.length; ) {
    const id = bytes[at++];
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++];
      size |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
    }
    sections.push(id);
    at += size;
  }
  return sections;
}

describe.each(['dsdc_kernels.wasm', 'dsdc_kernels_fma.wasm'])('kernels/%s', (wasm) => {
  const sidecar = JSON.parse(fs.readFileSync(new URL(`${wasm}.json`, dir), 'utf8')) as { sourceSha256: string; wasmSha256: string };

  it('was built from the current C source (else run `npm run build:kernels`)', () => {
    expect(sidecar.sourceSha256).toBe(sha256('dsdc_kernels.c'));
  });

  it('is the binary the sidecar describes', () => {
    expect(sidecar.wasmSha256).toBe(sha256(wasm));
  });

  it('compiles here, imports only the memory, has no data segments and exports no globals', () => {
    const bytes = fs.readFileSync(new URL(wasm, dir));
    expect(enableRelaxedSimd()).toBe(true);
    const module = new WebAssembly.Module(bytes);
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    // Section id 11 is the data section.
    expect(sectionIds(bytes)).not.toContain(11);
    expect(WebAssembly.Module.exports(module).every((e) => e.kind === 'function' || e.kind === 'memory')).toBe(true);
  });
});
