// Preprocessing specified on hand-built pictures: polarity, transparency, centring by mass,
// aspect ratio, resampling against a naive reference, and MNIST digits surviving the trip.
import { describe, expect, it } from 'vitest';
import { readIdxFile } from '../../src/data/idx.js';
import { defaultDataDir } from '../../src/data/mnist.js';
import {
  centreOfMass,
  DIGIT_BOX,
  inkBoundingBox,
  MNIST_CENTRE,
  MNIST_SIZE,
  MNIST_STROKE_RATIO,
  preprocessDigit,
  resize,
  resampleTaps,
  strokeWidth,
  thicken,
  withMnistStrokes,
  type GrayImage,
  type RasterImage,
} from '../../src/inference/preprocess.js';

/** A width×height picture of `background` with the rectangles filled with `ink` (grey levels). */
function picture(width: number, height: number, background: number, ink: number, rects: Array<[number, number, number, number]>): RasterImage {
  const data = new Uint8Array(width * height).fill(background);
  for (const [x0, y0, w, h] of rects) {
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) data[y * width + x] = ink;
  }
  return { width, height, channels: 1, data };
}

function asRgba(image: RasterImage, alphaOf: (grey: number) => number = () => 255): RasterImage {
  const data = new Uint8Array(image.width * image.height * 4);
  image.data.forEach((v, i) => data.set([v, v, v, alphaOf(v)], i * 4));
  return { ...image, channels: 4, data };
}

function gray(data: Float32Array, size = MNIST_SIZE): GrayImage {
  return { width: size, height: size, data };
}

// A '7'-like shape: a top bar and a diagonal-ish stem, off-centre in a larger picture.
const SEVEN: Array<[number, number, number, number]> = [
  [20, 10, 30, 6],
  [40, 16, 8, 14],
  [34, 30, 8, 14],
  [28, 44, 8, 14],
];

describe('preprocessDigit', () => {
  it('returns 28×28 values in [0, 1] for any size and colour', () => {
    const rgb: RasterImage = { width: 97, height: 61, channels: 3, data: new Uint8Array(97 * 61 * 3) };
    for (let y = 20; y < 50; y++) for (let x = 40; x < 52; x++) rgb.data.set([200, 180, 255], (y * 97 + x) * 3);
    const out = preprocessDigit(rgb)!;
    expect(out).toHaveLength(MNIST_SIZE * MNIST_SIZE);
    expect(Math.min(...out)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...out)).toBeCloseTo(1, 5);
  });

  it('inverts a dark-on-light digit, giving what the light-on-dark one gives', () => {
    const lightOnDark = preprocessDigit(picture(70, 70, 0, 255, SEVEN))!;
    const darkOnLight = preprocessDigit(picture(70, 70, 255, 0, SEVEN))!;
    expect(Array.from(darkOnLight)).toEqual(Array.from(lightOnDark));
    expect(lightOnDark[0]).toBe(0);
    expect(Math.max(...lightOnDark)).toBeCloseTo(1, 5);
  });

  it('stretches grey pencil on grey paper to full-contrast ink on black', () => {
    const faint = preprocessDigit(picture(70, 70, 200, 120, SEVEN))!;
    const crisp = preprocessDigit(picture(70, 70, 255, 0, SEVEN))!;
    for (let i = 0; i < faint.length; i++) expect(faint[i]).toBeCloseTo(crisp[i], 5);
  });

  it('composites transparency on white: black strokes on a transparent background are dark-on-light', () => {
    const strokes = picture(70, 70, 255, 0, SEVEN);
    const transparent = asRgba(strokes, (v) => (v === 255 ? 0 : 255));
    // The transparent pixels' colour is black, so ignoring alpha would see black on black.
    transparent.data.forEach((_, i) => {
      if (i % 4 === 3 && transparent.data[i] === 0) transparent.data.fill(0, i - 3, i);
    });
    expect(Array.from(preprocessDigit(transparent)!)).toEqual(Array.from(preprocessDigit(strokes)!));
  });

  it('centres a small off-centre blob by its centre of mass and scales it to the 20-pixel box', () => {
    const out = preprocessDigit(picture(100, 100, 0, 255, [[8, 70, 6, 9]]))!;
    const com = centreOfMass(gray(out))!;
    expect(Math.abs(com.x - MNIST_CENTRE)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(com.y - MNIST_CENTRE)).toBeLessThanOrEqual(0.5);
    const box = inkBoundingBox(gray(out), 0)!;
    expect(box.bottom - box.top).toBe(DIGIT_BOX);
    expect(box.right - box.left).toBe(Math.round((6 * DIGIT_BOX) / 9));
  });

  it('keeps the aspect ratio of a tall thin stroke', () => {
    const out = preprocessDigit(picture(50, 50, 0, 255, [[20, 5, 4, 40]]))!;
    const box = inkBoundingBox(gray(out), 0)!;
    expect([box.right - box.left, box.bottom - box.top]).toEqual([2, DIGIT_BOX]);
  });

  it('finds no digit in a uniform picture or one with only faint noise', () => {
    expect(preprocessDigit(picture(40, 40, 255, 255, []))).toBeUndefined();
    expect(preprocessDigit(picture(40, 40, 128, 140, [[10, 10, 5, 5]]))).toBeUndefined();
  });

  it('leaves an MNIST test digit nearly as it was (MNIST was prepared the same way)', async () => {
    const images = await readIdxFile(`${defaultDataDir()}/t10k-images-idx3-ubyte`);
    for (let k = 0; k < 20; k++) {
      const original = Float32Array.from(images.data.subarray(k * 784, (k + 1) * 784), (v) => v / 255);
      const prepared = preprocessDigit({ width: 28, height: 28, channels: 1, data: images.data.subarray(k * 784, (k + 1) * 784) as Uint8Array })!;
      let dot = 0, a = 0, b = 0;
      for (let i = 0; i < 784; i++) {
        dot += original[i] * prepared[i];
        a += original[i] ** 2;
        b += prepared[i] ** 2;
      }
      expect(dot / Math.sqrt(a * b), `test digit ${k}`).toBeGreaterThan(0.8);
    }
  });
});

describe('thin strokes', () => {
  /** An L (a stem and a foot) of stroke `pen` in a 300×300 picture, as a 0..1 ink map. */
  function ell(pen: number): GrayImage {
    const size = 300;
    const data = new Float32Array(size * size);
    const fill = (x0: number, y0: number, w: number, h: number) => {
      for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) data[y * size + x] = 1;
    };
    fill(100, 40, pen, 200);
    fill(100, 240 - pen, 120, pen);
    return { width: size, height: size, data };
  }
  /** The best cosine similarity of two 28×28 pictures over shifts of up to one pixel. */
  const bestShiftCosine = (a: Float32Array, b: Float32Array) => {
    let best = -1;
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        let dot = 0, na = 0, nb = 0;
        for (let y = 0; y < MNIST_SIZE; y++) {
          for (let x = 0; x < MNIST_SIZE; x++) {
            const u = a[y * MNIST_SIZE + x];
            const sx = x + dx, sy = y + dy;
            const v = sx >= 0 && sy >= 0 && sx < MNIST_SIZE && sy < MNIST_SIZE ? b[sy * MNIST_SIZE + sx] : 0;
            dot += u * v;
            na += u * u;
            nb += v * v;
          }
        }
        best = Math.max(best, dot / Math.sqrt(na * nb));
      }
    }
    return best;
  };
  const asRaster = (g: GrayImage): RasterImage => ({ width: g.width, height: g.height, channels: 1, data: Uint8Array.from(g.data, (v) => Math.round(255 * v)) });

  it('estimates the width of a long bar as about its width', () => {
    const bar = gray(new Float32Array(100 * 100), 100);
    for (let y = 10; y < 90; y++) for (let x = 40; x < 46; x++) bar.data[y * 100 + x] = 1;
    expect(strokeWidth(bar)).toBeGreaterThan(5.5);
    expect(strokeWidth(bar)).toBeLessThanOrEqual(6);
    expect(strokeWidth(gray(new Float32Array(100 * 100), 100))).toBeUndefined();
  });

  it('thickens by the maximum over a square, growing the picture so that no stroke is cut', () => {
    const dot = gray(new Float32Array(9), 3);
    dot.data[0] = 0.7;
    const out = thicken(dot, 2);
    expect([out.width, out.height]).toEqual([7, 7]);
    for (let y = 0; y < 7; y++) for (let x = 0; x < 7; x++) expect(out.data[y * 7 + x], `${x},${y}`).toBeCloseTo(x < 5 && y < 5 ? 0.7 : 0);
  });

  it('thickens as a naive maximum over each pixel\'s square would', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const image = { width: 13, height: 9, data: Float32Array.from({ length: 13 * 9 }, () => (random() < 0.1 ? random() : 0)) };
    for (const radius of [1, 2, 4]) {
      const out = thicken(image, radius);
      for (let y = 0; y < out.height; y++) {
        for (let x = 0; x < out.width; x++) {
          let max = 0;
          for (let sy = y - 2 * radius; sy <= y; sy++) for (let sx = x - 2 * radius; sx <= x; sx++) {
            if (sx >= 0 && sy >= 0 && sx < image.width && sy < image.height) max = Math.max(max, image.data[sy * image.width + sx]);
          }
          expect(out.data[y * out.width + x], `r ${radius} at ${x},${y}`).toBe(max);
        }
      }
    }
  });

  it('brings a one-pixel pen line to MNIST\'s stroke width and leaves MNIST-thick strokes as they are', () => {
    const thin = withMnistStrokes(ell(1));
    const ratio = strokeWidth(thin)! / Math.max(thin.width, thin.height);
    expect(ratio).toBeGreaterThan(MNIST_STROKE_RATIO - 0.015);
    expect(ratio).toBeLessThan(MNIST_STROKE_RATIO + 0.015);
    const thick = ell(18);
    expect(withMnistStrokes(thick)).toBe(thick);
  });

  it('makes a digit written with a thin pen look like the same digit written with a thick one', () => {
    const thick = preprocessDigit(asRaster(ell(20)))!;
    const thin = preprocessDigit(asRaster(ell(2)))!;
    const ink = (a: Float32Array) => a.reduce((sum, v) => sum + v, 0);
    expect(ink(thin) / ink(thick)).toBeGreaterThan(0.8);
    expect(ink(thin) / ink(thick)).toBeLessThan(1.25);
    // Centring by mass rounds to whole pixels, so the two may sit one pixel apart.
    expect(bestShiftCosine(thin, thick)).toBeGreaterThan(0.9);
  });
});

describe('resize', () => {
  // Naive reference: each output pixel is the mean of the source block it covers (integer factors).
  function blockMean(image: GrayImage, factor: number): Float32Array {
    const w = image.width / factor, h = image.height / factor;
    const out = new Float32Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let sum = 0;
        for (let dy = 0; dy < factor; dy++) for (let dx = 0; dx < factor; dx++) sum += image.data[(y * factor + dy) * image.width + x * factor + dx];
        out[y * w + x] = sum / factor ** 2;
      }
    }
    return out;
  }

  it('averages areas when shrinking by a whole factor', () => {
    const data = Float32Array.from({ length: 12 * 9 }, (_, i) => ((i * 7919) % 101) / 100);
    const image = { width: 12, height: 9, data };
    const got = resize(image, 4, 3).data;
    const want = blockMean(image, 3);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 5);
  });

  it('uses taps whose weights sum to 1, shrinking or growing', () => {
    for (const [from, to] of [[7, 3], [100, 20], [3, 20], [1, 20], [20, 20]]) {
      for (const taps of resampleTaps(from, to)) {
        expect(taps.reduce((s, [, w]) => s + w, 0)).toBeCloseTo(1, 6);
        for (const [i] of taps) expect(i >= 0 && i < from).toBe(true);
      }
    }
  });

  it('interpolates linearly when growing', () => {
    const got = resize({ width: 2, height: 1, data: Float32Array.of(0, 1) }, 4, 1).data;
    expect(Array.from(got)).toEqual([0, 0.25, 0.75, 1]);
  });
});
