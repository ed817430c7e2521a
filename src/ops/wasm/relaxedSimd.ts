// Whether this process can run wasm relaxed SIMD (f32x4.relaxed_madd, a fused multiply-add on
// CPUs with FMA), which kernels/dsdc_kernels_fma.wasm needs. Node 20 (V8 11.3) validates it only
// with --experimental-wasm-relaxed-simd; Node 22 and later ship it. The flag can be set from
// inside the process (v8.setFlagsFromString) as long as no module that needs it has been
// compiled yet: wasm features are read from V8's flags at each validation and compilation.
import * as v8 from 'node:v8';

export const RELAXED_SIMD_V8_FLAG = '--experimental-wasm-relaxed-simd';
/** Given to node, this keeps relaxed SIMD off (and so the plain SIMD kernels on). */
export const NO_RELAXED_SIMD_V8_FLAG = '--no-experimental-wasm-relaxed-simd';

// (module (func (result v128) v128.const 0 v128.const 0 v128.const 0 f32x4.relaxed_madd))
const V128_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
const PROBE_BODY = [0x00, ...V128_ZERO, ...V128_ZERO, ...V128_ZERO, 0xfd, 0x85, 0x02, 0x0b];
const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, PROBE_BODY.length + 2, 0x01, PROBE_BODY.length, ...PROBE_BODY, // code section
]);

/** Whether relaxed SIMD validates in this process now. */
export function relaxedSimdSupported(): boolean {
  return WebAssembly.validate(RELAXED_SIMD_PROBE);
}

/**
 * Turns relaxed SIMD on where this Node has it behind RELAXED_SIMD_V8_FLAG (Node 20); a no-op
 * where it is already on, or where node was started with NO_RELAXED_SIMD_V8_FLAG. Returns
 * whether it validates afterwards. Call before compiling a module that uses it (initBackend
 * does, for the wasm backend).
 */
export function enableRelaxedSimd(execArgv: readonly string[] = process.execArgv): boolean {
  if (relaxedSimdSupported() || execArgv.includes(NO_RELAXED_SIMD_V8_FLAG)) return relaxedSimdSupported();
  v8.setFlagsFromString(RELAXED_SIMD_V8_FLAG);
  return relaxedSimdSupported();
}
