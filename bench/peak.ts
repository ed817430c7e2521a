// `npm run bench:peak`: the most wasm SIMD gets out of one core of this machine under this
// Node, with plain SIMD (f32x4.mul + f32x4.add) and with relaxed SIMD (f32x4.relaxed_madd), for
// the loops of bench/peak/peakModule.ts. Flags: --rounds N (default 40), --iterations N (200000).
import os from 'node:os';
import { parseArgs } from 'node:util';
import { loadAverage } from './machine.js';
import { measurePeaks, peakByArithmetic } from './peak/measurePeak.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '40' }, iterations: { type: 'string', default: '200000' } } });
const results = measurePeaks(undefined, Number(values.rounds), Number(values.iterations));
console.log(`wasm SIMD peak, one core: ${os.cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}, load average ${loadAverage()[0].toFixed(1)}`);
console.log('| loop | GFLOP/s |\n|---|---:|');
for (const r of results) console.log(`| ${r.label} | ${r.gflops.toFixed(1)} |`);
for (const [arithmetic, r] of peakByArithmetic(results)) console.log(`peak with ${arithmetic}: ${r.gflops.toFixed(1)} GFLOP/s (${r.label})`);
