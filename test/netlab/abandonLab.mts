// Makes a lab with two hosts (one behind a delay line) and then waits to be SIGKILLed, leaving
// its namespaces behind for the sweep test.
import { NetLab } from '../../tools/netlab/index.js';

const lab = await NetLab.create({ prefix: 'nltest' });
await lab.addHost('a', { shape: { delayMs: 5 } });
await lab.addHost('b');
process.stdout.write(`${JSON.stringify({ labId: lab.id })}\n`);
setInterval(() => {}, 1000);
