// From a picture of a digit (any size, colour, polarity) to the 28×28 input DSDC-Net was
// trained on, prepared the way MNIST was: light ink on a dark background, the ink's bounding
// box scaled to fit 20×20 keeping its aspect ratio (anti-aliased), then placed in 28×28 so that
// its centre of mass sits at the centre. One step MNIST did not need: strokes far thinner than
// MNIST's (a ballpoint pen in a large photo) are thickened first, else they shrink to faint
// lines the model has never seen. Pure functions on typed arrays, with no Node or DOM
// imports: the CLI and the browser page run this same module.

/** An 8-bit raster with interleaved channels: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
export interface RasterImage {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  data: Uint8Array | Uint8ClampedArray;
}

/** One value per pixel, row-major, in [0, 1]. */
export interface GrayImage {
  width: number;
  height: number;
  data: Float32Array;
}

export interface Box {
  left: number;
  top: number;
  /** Exclusive. */
  right: number;
  /** Exclusive. */
  bottom: number;
}

/** Side of the model's input. */
export const MNIST_SIZE = 28;
/** MNIST's digits were scaled to fit a box of this side before centring. */
export const DIGIT_BOX = 20;
/** Where MNIST's centres of mass lie, in pixel-index coordinates (the test set's mean is 14.0, 14.0). */
export const MNIST_CENTRE = 14;
/** Ink (after contrast stretching) above this counts for the bounding box. */
export const INK_THRESHOLD = 0.15;
/** Below this difference between the darkest ink and the background, a picture is blank. */
export const MIN_CONTRAST = 0.1;
/**
 * MNIST's stroke width relative to the digit's longer side: the test set's median, with the
 * width estimated as 2·area/perimeter of the ink above 0.5 (`strokeWidth`).
 */
export const MNIST_STROKE_RATIO = 0.09;
/** Strokes thinner than this (relative, as above; thinner than all but 14 of MNIST's 10,000 test digits) are thickened to MNIST_STROKE_RATIO. */
export const THIN_STROKE_RATIO = 0.045;
/** Ink above this counts as stroke for `strokeWidth`. */
export const STROKE_THRESHOLD = 0.5;

const CHANNEL_MAX = 255;
// ITU-R BT.601 luma, as PNG grey conversion, PIL's 'L' and most browsers use.
const LUMA = [0.299, 0.587, 0.114] as const;

/**
 * The whole pipeline. Undefined when the picture holds no ink (a blank canvas, a uniform
 * image), so that callers decide whether that is an error.
 */
export function preprocessDigit(image: RasterImage): Float32Array | undefined {
  const ink = inkMap(lightness(image));
  if (ink === undefined) return undefined;
  const box = inkBoundingBox(ink, INK_THRESHOLD);
  if (box === undefined) return undefined;
  return placeByCentreOfMass(resizeToFit(withMnistStrokes(crop(ink, box)), DIGIT_BOX), MNIST_SIZE, MNIST_CENTRE);
}

/** Lightness in [0, 1] (1 = white), with transparency composited on white. */
export function lightness(image: RasterImage): GrayImage {
  const { width, height, channels, data } = image;
  checkRaster(image);
  const out = new Float32Array(width * height);
  const hasAlpha = channels === 2 || channels === 4;
  for (let i = 0; i < out.length; i++) {
    const p = i * channels;
    const luma = channels >= 3 ? LUMA[0] * data[p] + LUMA[1] * data[p + 1] + LUMA[2] * data[p + 2] : data[p];
    const alpha = hasAlpha ? data[p + channels - 1] / CHANNEL_MAX : 1;
    out[i] = (alpha * luma) / CHANNEL_MAX + (1 - alpha);
  }
  return { width, height, data: out };
}

/** Median lightness of the outermost ring of pixels: the background, even where a stroke touches the edge. */
export function borderMedian(image: GrayImage): number {
  const { width, height, data } = image;
  const ring: number[] = [];
  for (let x = 0; x < width; x++) {
    ring.push(data[x]);
    if (height > 1) ring.push(data[(height - 1) * width + x]);
  }
  for (let y = 1; y < height - 1; y++) {
    ring.push(data[y * width]);
    if (width > 1) ring.push(data[y * width + width - 1]);
  }
  ring.sort((a, b) => a - b);
  const mid = ring.length >> 1;
  return ring.length % 2 === 1 ? ring[mid] : (ring[mid - 1] + ring[mid]) / 2;
}

/** A light background means dark ink: the picture must be inverted to look like MNIST. */
export function isDarkOnLight(image: GrayImage): boolean {
  return borderMedian(image) > 0.5;
}

/**
 * Ink in [0, 1] (0 = background, 1 = the strongest ink): inverted when dark-on-light, then
 * stretched so that the background is 0 and the darkest stroke 1 (paper, grey pencil and
 * photos look like MNIST's saturated strokes). Undefined when there is no contrast.
 */
export function inkMap(light: GrayImage): GrayImage | undefined {
  const invert = isDarkOnLight(light);
  const raw = light.data.map((v) => (invert ? 1 - v : v));
  const background = invert ? 1 - borderMedian(light) : borderMedian(light);
  let peak = 0;
  for (const v of raw) peak = Math.max(peak, v);
  const range = peak - background;
  if (range < MIN_CONTRAST) return undefined;
  const data = raw.map((v) => clamp01((v - background) / range));
  return { width: light.width, height: light.height, data };
}

/** The smallest box holding every pixel above `threshold`; undefined when none is. */
export function inkBoundingBox(image: GrayImage, threshold: number): Box | undefined {
  const { width, height, data } = image;
  let left = width, top = height, right = -1, bottom = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[y * width + x] <= threshold) continue;
      left = Math.min(left, x);
      right = Math.max(right, x);
      top = Math.min(top, y);
      bottom = Math.max(bottom, y);
    }
  }
  return right < 0 ? undefined : { left, top, right: right + 1, bottom: bottom + 1 };
}

export function crop(image: GrayImage, box: Box): GrayImage {
  const width = box.right - box.left;
  const height = box.bottom - box.top;
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const from = (box.top + y) * image.width + box.left;
    data.set(image.data.subarray(from, from + width), y * width);
  }
  return { width, height, data };
}

/**
 * Stroke width in pixels, estimated as 2·area/perimeter of the pixels above `threshold` (a long
 * bar of width w gives nearly w); undefined when no pixel is above it.
 */
export function strokeWidth(image: GrayImage, threshold = STROKE_THRESHOLD): number | undefined {
  const { width, height, data } = image;
  const inked = (x: number, y: number) => x >= 0 && y >= 0 && x < width && y < height && data[y * width + x] > threshold;
  let area = 0;
  let edges = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!inked(x, y)) continue;
      area++;
      edges += Number(!inked(x - 1, y)) + Number(!inked(x + 1, y)) + Number(!inked(x, y - 1)) + Number(!inked(x, y + 1));
    }
  }
  return area > 0 ? (2 * area) / edges : undefined;
}

/**
 * Grey dilation by a (2r+1)×(2r+1) square: each pixel becomes the strongest ink around it. The
 * image grows by r on every side, so that no thickened stroke is cut at the edge. Separable
 * (rows, then columns), each pass a sliding maximum whose cost does not depend on r.
 */
export function thicken(image: GrayImage, radius: number): GrayImage {
  const width = image.width + 2 * radius;
  const height = image.height + 2 * radius;
  const rows = new Float32Array(width * image.height);
  for (let y = 0; y < image.height; y++) {
    rows.set(growingSlidingMax(image.data.subarray(y * image.width, (y + 1) * image.width), radius), y * width);
  }
  const data = new Float32Array(width * height);
  const column = new Float32Array(image.height);
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < image.height; y++) column[y] = rows[y * width + x];
    const grown = growingSlidingMax(column, radius);
    for (let y = 0; y < height; y++) data[y * width + x] = grown[y];
  }
  return { width, height, data };
}

/**
 * out[i] = max(src[i−2r … i]), with 0 outside src, for i in 0 … n+2r−1 (a window of 2r+1 that
 * grows the line by r at each end). van Herk / Gil–Werman: maxima from the start and from the
 * end of blocks of the window's length, so three comparisons per value whatever r is.
 */
function growingSlidingMax(src: Float32Array, radius: number): Float32Array {
  const window = 2 * radius + 1;
  const length = src.length + 2 * radius;
  const padded = new Float32Array(length + window);
  padded.set(src, 2 * radius);
  const fromStart = new Float32Array(padded.length);
  const fromEnd = new Float32Array(padded.length);
  for (let j = 0; j < padded.length; j++) fromStart[j] = j % window === 0 ? padded[j] : Math.max(fromStart[j - 1], padded[j]);
  for (let j = padded.length - 1; j >= 0; j--) fromEnd[j] = j % window === window - 1 || j === padded.length - 1 ? padded[j] : Math.max(fromEnd[j + 1], padded[j]);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.max(fromEnd[i], fromStart[i + window - 1]);
  return out;
}

/** The cropped digit, thickened to MNIST's stroke width when its strokes are far thinner. */
export function withMnistStrokes(image: GrayImage): GrayImage {
  const width = strokeWidth(image);
  const side = Math.max(image.width, image.height);
  if (width === undefined || width >= THIN_STROKE_RATIO * side) return image;
  // Thickening by r adds 2r to the stroke and to the side: (w + 2r) / (side + 2r) = target.
  const radius = Math.round((MNIST_STROKE_RATIO * side - width) / (2 * (1 - MNIST_STROKE_RATIO)));
  return radius > 0 ? thicken(image, radius) : image;
}

/** Scales so that the longer side is `side`, keeping the aspect ratio (the shorter side at least 1). */
export function resizeToFit(image: GrayImage, side: number): GrayImage {
  const scale = side / Math.max(image.width, image.height);
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  return resize(image, width, height);
}

/** Separable resampling: area averaging along an axis that shrinks, bilinear along one that grows. */
export function resize(image: GrayImage, width: number, height: number): GrayImage {
  const columns = resampleTaps(image.width, width);
  const rows = resampleTaps(image.height, height);
  const across = new Float32Array(width * image.height);
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (const [source, weight] of columns[x]) sum += weight * image.data[y * image.width + source];
      across[y * width + x] = sum;
    }
  }
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (const [source, weight] of rows[y]) sum += weight * across[source * width + x];
      data[y * width + x] = sum;
    }
  }
  return { width, height, data };
}

/** For each of `to` output samples, the source samples and weights (summing to 1) that make it. */
export function resampleTaps(from: number, to: number): Array<Array<[number, number]>> {
  const ratio = from / to;
  const taps: Array<Array<[number, number]>> = [];
  for (let j = 0; j < to; j++) {
    const sample: Array<[number, number]> = [];
    if (to <= from) {
      // Output j covers [j·ratio, (j+1)·ratio) of the source; each source pixel weighs by its overlap.
      const start = j * ratio;
      const end = start + ratio;
      for (let i = Math.floor(start); i < Math.min(from, Math.ceil(end)); i++) {
        const overlap = Math.min(end, i + 1) - Math.max(start, i);
        if (overlap > 0) sample.push([i, overlap / ratio]);
      }
    } else {
      // Pixel centres aligned: output centre j+½ maps to source coordinate (j+½)·ratio − ½.
      const at = Math.min(from - 1, Math.max(0, (j + 0.5) * ratio - 0.5));
      const i = Math.floor(at);
      const frac = at - i;
      sample.push([i, 1 - frac]);
      if (frac > 0) sample.push([i + 1, frac]);
    }
    taps.push(sample);
  }
  return taps;
}

/** Intensity-weighted mean position, in pixel-index coordinates; undefined for an all-zero image. */
export function centreOfMass(image: GrayImage): { x: number; y: number } | undefined {
  let mass = 0, sx = 0, sy = 0;
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const v = image.data[y * image.width + x];
      mass += v;
      sx += v * x;
      sy += v * y;
    }
  }
  return mass > 0 ? { x: sx / mass, y: sy / mass } : undefined;
}

/**
 * A size×size image with `image` pasted so that its centre of mass lands on (centre, centre),
 * to the nearest whole pixel (a whole-pixel shift keeps strokes sharp). Pixels pushed past the
 * edge are dropped.
 */
export function placeByCentreOfMass(image: GrayImage, size: number, centre: number): Float32Array {
  const out = new Float32Array(size * size);
  const com = centreOfMass(image) ?? { x: (image.width - 1) / 2, y: (image.height - 1) / 2 };
  const dx = Math.round(centre - com.x);
  const dy = Math.round(centre - com.y);
  for (let y = 0; y < image.height; y++) {
    const ty = y + dy;
    if (ty < 0 || ty >= size) continue;
    for (let x = 0; x < image.width; x++) {
      const tx = x + dx;
      if (tx < 0 || tx >= size) continue;
      out[ty * size + tx] = image.data[y * image.width + x];
    }
  }
  return out;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

function checkRaster(image: RasterImage): void {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`an image needs positive integer width and height, got ${width}×${height}`);
  }
  if (data.length !== width * height * channels) {
    throw new RangeError(`a ${width}×${height} image with ${channels} channel(s) needs ${width * height * channels} values, got ${data.length}`);
  }
}
