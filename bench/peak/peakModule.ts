// The wasm module behind `npm run bench:peak`: one function `run(iterations) -> f32` whose loop
// is nothing but register-blocked f32x4 multiply-adds, so that its rate is the most this
// machine's V8 gets out of wasm SIMD on one core. Written as bytes here (not compiled from C) so
// that the loop holds exactly the instructions named, with nothing a compiler might add or drop.
//   registers:  12 accumulators, acc ← acc + acc·c with c in a register: no loads at all (each
//               product depends on its accumulator, so no compiler can share or hoist it; the
//               chain's latency is a multiply plus an add, or one fused multiply-add).
//   tile R×V:   the register tile of a matrix product (kernels/dsdc_kernels.c's is 2×4): per
//               step, V vectors of b loaded from a 16 KB block (L1), R broadcasts of a, and R·V
//               multiply-adds into R·V accumulators: the most such a kernel's inner loop reaches.
// The loop body is never unrolled: V8's scheduler hoists the loads of every copy to the top of
// the loop, and the registers they then hold make it spill accumulators.
// Each comes as plain SIMD (f32x4.mul then f32x4.add) and as relaxed SIMD (f32x4.relaxed_madd,
// one fused multiply-add where the CPU has FMA; Node 20 validates it only with
// --experimental-wasm-relaxed-simd). Memory is the module's own and starts as zeros (the values
// never change the timing of these instructions); tests fill it to check the arithmetic.

export type PeakLoop = 'registers' | 'tile';
export type PeakArithmetic = 'mul+add' | 'relaxed_madd';

export interface PeakKernel {
  loop: PeakLoop;
  arithmetic: PeakArithmetic;
  /** For a tile: rows of a (broadcasts) and vectors of b (4 floats each) per step. */
  rows?: number;
  vectors?: number;
}

const REGISTER_ACCUMULATORS = 12;
/** V8 allocates 15 of the 16 xmm registers (xmm15 is its scratch). */
const VECTOR_REGISTERS = 15;
/** The tile's b operand cycles through this many bytes (a 16 KB L1-resident block). */
export const TILE_B_BYTES = 16 * 1024;
/** The tile's a operand: one row of this many bytes per tile row, after b's block. */
const TILE_A_ROW_BYTES = 1024;

/** Multiply-adds one loop body performs, 4 lanes each. */
export function multiplyAddsPerBody(kernel: PeakKernel): number {
  return kernel.loop === 'registers' ? REGISTER_ACCUMULATORS : tileShape(kernel).rows * tileShape(kernel).vectors;
}

/** Floating-point operations of `run(iterations)` (a multiply-add is 2 per lane). */
export function peakFlops(kernel: PeakKernel, iterations: number): number {
  return iterations * multiplyAddsPerBody(kernel) * 4 * 2;
}

function tileShape(kernel: PeakKernel): { rows: number; vectors: number } {
  const { rows = 2, vectors = 4 } = kernel;
  // Accumulators, b's vectors and one broadcast must fit, or the tile measures spills.
  if (!Number.isInteger(rows) || !Number.isInteger(vectors) || rows < 1 || vectors < 1 || rows * vectors + vectors + 1 > VECTOR_REGISTERS) {
    throw new Error(`peak kernel: a ${rows}×${vectors} tile does not fit in ${VECTOR_REGISTERS} vector registers`);
  }
  return { rows, vectors };
}

export function describePeakKernel(kernel: PeakKernel): string {
  if (kernel.loop === 'registers') return `registers, ${kernel.arithmetic}`;
  const { rows, vectors } = tileShape(kernel);
  return `tile ${rows}×${4 * vectors} from L1, ${kernel.arithmetic}`;
}

const OP = {
  loop: 0x03,
  end: 0x0b,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Const: 0x41,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32And: 0x71,
  simd: 0xfd,
} as const;
const SIMD = { load: 0x00, load32Splat: 0x09, extractLane: 0x1f, f32x4Add: 0xe4, f32x4Mul: 0xe6, relaxedMadd: 0x105 } as const;
const TYPE = { i32: 0x7f, f32: 0x7d, v128: 0x7b, func: 0x60, void: 0x40 } as const;

function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

function sleb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

const simd = (op: number, ...immediates: number[]) => [OP.simd, ...uleb(op), ...immediates];
const memarg = (alignLog2: number, offset: number) => [...uleb(alignLog2), ...uleb(offset)];
const get = (local: number) => [OP.localGet, ...uleb(local)];
const set = (local: number) => [OP.localSet, ...uleb(local)];

/** acc ← acc + a·b on the stack's terms, in the kernel's arithmetic. */
function multiplyAdd(arithmetic: PeakArithmetic, acc: number, a: number[], b: number[]): number[] {
  if (arithmetic === 'relaxed_madd') return [...a, ...b, ...get(acc), ...simd(SIMD.relaxedMadd), ...set(acc)];
  return [...get(acc), ...a, ...b, ...simd(SIMD.f32x4Mul), ...simd(SIMD.f32x4Add), ...set(acc)];
}

function section(id: number, contents: number[]): number[] {
  return [id, ...uleb(contents.length), ...contents];
}

const vector = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (text: string) => [...uleb(text.length), ...Buffer.from(text, 'ascii')];

/** The module's bytes: exports `run(iterations: i32) -> f32` and its memory. */
export function peakModuleBytes(kernel: PeakKernel): Uint8Array<ArrayBuffer> {
  // Locals: 0 iterations (param), 1 p and 2 q (i32 offsets), then v128: accumulators, operands.
  const n = 0, p = 1, q = 2, firstVector = 3;
  const accumulators = multiplyAddsPerBody(kernel);
  const { rows, vectors } = kernel.loop === 'tile' ? tileShape(kernel) : { rows: 0, vectors: 0 };
  const acc = (i: number) => firstVector + i;
  const operand = (i: number) => firstVector + accumulators + i;
  const operandCount = kernel.loop === 'registers' ? 1 : vectors + 1;
  const init: number[] = [];
  for (let i = 0; i < operandCount; i++) init.push(OP.i32Const, ...sleb(0), ...simd(SIMD.load, ...memarg(4, 16 * i)), ...set(operand(i)));
  // The register loop's accumulators start from memory too (a tile's start at zero, as in a product).
  if (kernel.loop === 'registers') for (let i = 0; i < accumulators; i++) init.push(OP.i32Const, ...sleb(0), ...simd(SIMD.load, ...memarg(4, 0)), ...set(acc(i)));
  const body: number[] = [];
  if (kernel.loop === 'registers') {
    for (let i = 0; i < accumulators; i++) body.push(...multiplyAdd(kernel.arithmetic, acc(i), get(acc(i)), get(operand(0))));
  } else {
    // b's vectors from the L1 block at p; row r's broadcast from its row of a, at q.
    for (let j = 0; j < vectors; j++) body.push(...get(p), ...simd(SIMD.load, ...memarg(4, 16 * j)), ...set(operand(j)));
    const x = operand(vectors);
    for (let row = 0; row < rows; row++) {
      body.push(...get(q), ...simd(SIMD.load32Splat, ...memarg(2, TILE_B_BYTES + row * TILE_A_ROW_BYTES)), ...set(x));
      for (let j = 0; j < vectors; j++) body.push(...multiplyAdd(kernel.arithmetic, acc(vectors * row + j), get(x), get(operand(j))));
    }
    body.push(...get(p), OP.i32Const, ...sleb(16 * vectors), OP.i32Add, OP.i32Const, ...sleb(TILE_B_BYTES - 1), OP.i32And, ...set(p));
    body.push(...get(q), OP.i32Const, ...sleb(4), OP.i32Add, OP.i32Const, ...sleb(TILE_A_ROW_BYTES - 1), OP.i32And, ...set(q));
  }
  const loop = [
    OP.loop,
    TYPE.void,
    ...body,
    ...get(n),
    OP.i32Const,
    ...sleb(1),
    OP.i32Sub,
    OP.localTee,
    ...uleb(n),
    OP.brIf,
    0,
    OP.end,
  ];
  // The result: the lanes-0 sum of all accumulators, so that none of the work is dead.
  const result = [...get(acc(0))];
  for (let i = 1; i < accumulators; i++) result.push(...get(acc(i)), ...simd(SIMD.f32x4Add));
  result.push(...simd(SIMD.extractLane, 0));
  const locals = vector([
    [...uleb(2), TYPE.i32],
    [...uleb(accumulators + operandCount), TYPE.v128],
  ]);
  const func = [...locals, ...init, ...loop, ...result, OP.end];
  const memoryPages = Math.ceil((TILE_B_BYTES + VECTOR_REGISTERS * TILE_A_ROW_BYTES) / 65536);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector([[TYPE.func, ...vector([[TYPE.i32]]), ...vector([[TYPE.f32]])]])),
    ...section(3, vector([[0]])),
    ...section(5, vector([[0x00, ...uleb(memoryPages)]])),
    ...section(7, vector([[...name('run'), 0x00, 0], [...name('memory'), 0x02, 0]])),
    ...section(10, vector([[...uleb(func.length), ...func]])),
  ]);
}
