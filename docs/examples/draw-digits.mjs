// Draws the hand-drawn digit files in docs/examples/digits/ in headless Chromium: strokes with
// a round pen, a little wobble, on paper-coloured backgrounds, in several sizes, ink colours and
// formats, the way a phone photo or a scan of a written digit comes out (not MNIST's white on
// black 28×28). Each digit twice: `hand-N` with a marker-like pen (about 10% of the digit's
// height) and `ballpoint-N` with a pen five times thinner. `node docs/examples/draw-digits.mjs`
// rewrites them (needs /usr/bin/chromium).
import { mkdirSync, writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const OUT = new URL('./digits/', import.meta.url);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'];

/** Pen widths relative to `width` below: the marker, and a ballpoint five times thinner. */
const PENS = [['hand', 1], ['ballpoint', 0.2]];

// Strokes in a 100×100 box (x right, y down); each stroke is a polyline, smoothed when drawn.
const DIGITS = [
  { file: 'hand-0.png', size: [240, 300], ink: '#1b2a8a', paper: '#f4f1e8', width: 9, strokes: [[[50, 8], [28, 20], [20, 50], [28, 82], [50, 93], [72, 82], [80, 50], [72, 18], [50, 8]]] },
  { file: 'hand-2.jpg', size: [400, 400], ink: '#111111', paper: '#ffffff', width: 11, strokes: [[[25, 28], [40, 12], [62, 12], [74, 28], [68, 48], [45, 68], [22, 90], [50, 88], [80, 89]]] },
  { file: 'hand-3.png', size: [320, 240], ink: '#0b3d91', paper: '#eef2f7', width: 8, strokes: [[[28, 15], [50, 8], [70, 16], [68, 36], [48, 48], [72, 58], [74, 80], [52, 92], [26, 85]]] },
  { file: 'hand-4.jpg', size: [500, 500], ink: '#202020', paper: '#e9e6df', width: 10, strokes: [[[58, 8], [38, 40], [20, 64], [82, 64]], [[62, 30], [62, 95]]] },
  { file: 'hand-5.png', size: [200, 260], ink: '#8a1b1b', paper: '#fffdf6', width: 9, strokes: [[[72, 10], [34, 10], [30, 45], [52, 40], [70, 50], [74, 72], [58, 90], [30, 86]]] },
  { file: 'hand-7.jpg', size: [360, 300], ink: '#1a1a1a', paper: '#f7f7f2', width: 10, strokes: [[[22, 14], [78, 12], [60, 45], [46, 92]]] },
  { file: 'hand-8.png', size: [280, 280], ink: '#003300', paper: '#f2f7f2', width: 8, strokes: [[[62, 20], [50, 8], [32, 16], [34, 36], [50, 48], [70, 62], [68, 86], [50, 94], [30, 84], [32, 62], [50, 48], [64, 36], [62, 20]]] },
  { file: 'hand-9.jpg', size: [300, 380], ink: '#222266', paper: '#ffffff', width: 10, strokes: [[[68, 22], [50, 10], [32, 22], [34, 40], [52, 46], [68, 34], [68, 22], [66, 60], [60, 94]]] },
];

mkdirSync(OUT, { recursive: true });
const browser = await chromium.launch({ executablePath: process.env.DSDC_CHROMIUM || '/usr/bin/chromium', args: ARGS });
const page = await browser.newPage();
for (const [prefix, pen] of PENS) for (const digit of DIGITS) {
  const d = { ...digit, file: digit.file.replace('hand', prefix), width: digit.width * pen, seed: digit.file.length * 7919 };
  const type = d.file.endsWith('.png') ? 'image/png' : 'image/jpeg';
  const dataUrl = await page.evaluate(({ d, type }) => {
    const [w, h] = d.size;
    const canvas = Object.assign(document.createElement('canvas'), { width: w, height: h });
    const g = canvas.getContext('2d');
    g.fillStyle = d.paper;
    g.fillRect(0, 0, w, h);
    // The digit fills about 70% of the shorter side, a little off centre, as people write.
    const scale = 0.7 * Math.min(w, h) / 100;
    const ox = 0.46 * w - 50 * scale;
    const oy = 0.52 * h - 50 * scale;
    let seed = d.seed;
    const wobble = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 2.2;
    g.strokeStyle = d.ink;
    g.lineWidth = d.width * scale;
    g.lineCap = 'round';
    g.lineJoin = 'round';
    for (const stroke of d.strokes) {
      const pts = stroke.map(([x, y]) => [ox + (x + wobble()) * scale, oy + (y + wobble()) * scale]);
      g.beginPath();
      g.moveTo(...pts[0]);
      for (let i = 1; i < pts.length - 1; i++) {
        const mid = [(pts[i][0] + pts[i + 1][0]) / 2, (pts[i][1] + pts[i + 1][1]) / 2];
        g.quadraticCurveTo(pts[i][0], pts[i][1], mid[0], mid[1]);
      }
      g.lineTo(...pts[pts.length - 1]);
      g.stroke();
    }
    return canvas.toDataURL(type, 0.9);
  }, { d, type });
  writeFileSync(new URL(d.file, OUT), Buffer.from(dataUrl.split(',')[1], 'base64'));
  console.log(`wrote docs/examples/digits/${d.file}`);
}
await browser.close();
