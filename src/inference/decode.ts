// PNG and JPEG bytes to an RGBA raster (pngjs, jpeg-js). The format is told by the file's
// signature, not its name; anything else, or a damaged file, is a PredictError naming the file.
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { PredictError } from './errors.js';
import type { RasterImage } from './preprocess.js';

/** Larger pictures are refused before decoding rather than exhausting memory. */
export const MAX_IMAGE_MEGAPIXELS = 50;
export const MAX_DECODE_MEMORY_MB = 512;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_SIGNATURE = [0xff, 0xd8, 0xff];
// IHDR is the first chunk: 8 signature bytes, 4 length, 4 type, then width and height.
const PNG_WIDTH_OFFSET = 16;
const PNG_HEADER_BYTES = 24;

export type ImageFormat = 'png' | 'jpeg';

export function imageFormatOf(bytes: Uint8Array): ImageFormat | undefined {
  const startsWith = (signature: number[]) => signature.every((b, i) => bytes[i] === b);
  if (startsWith(PNG_SIGNATURE)) return 'png';
  if (startsWith(JPEG_SIGNATURE)) return 'jpeg';
  return undefined;
}

export function decodeImage(bytes: Uint8Array, file: string): RasterImage {
  if (bytes.length === 0) throw new PredictError('IMAGE_FORMAT', `${file}: is empty (0 bytes); expected a PNG or JPEG image`, file);
  const format = imageFormatOf(bytes);
  if (format === undefined) {
    const head = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new PredictError(
      'IMAGE_FORMAT',
      `${file}: is not a PNG or JPEG image (it starts with bytes ${head}; a PNG starts with 89 50 4e 47, a JPEG with ff d8 ff)`,
      file,
    );
  }
  return format === 'png' ? decodePng(bytes, file) : decodeJpeg(bytes, file);
}

function decodePng(bytes: Uint8Array, file: string): RasterImage {
  if (bytes.length >= PNG_HEADER_BYTES) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    checkSize(view.getUint32(PNG_WIDTH_OFFSET), view.getUint32(PNG_WIDTH_OFFSET + 4), file);
  }
  try {
    // pngjs expands palette, grey and 16-bit images to 8-bit RGBA.
    const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return { width: png.width, height: png.height, channels: 4, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
  } catch (e) {
    throw corrupt('PNG', file, e);
  }
}

function decodeJpeg(bytes: Uint8Array, file: string): RasterImage {
  try {
    // Not tolerant: a truncated JPEG would otherwise decode with grey blocks and be classified.
    const image = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      tolerantDecoding: false,
      maxResolutionInMP: MAX_IMAGE_MEGAPIXELS,
      maxMemoryUsageInMB: MAX_DECODE_MEMORY_MB,
    });
    return { width: image.width, height: image.height, channels: 4, data: image.data };
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    if (/limit exceeded/.test(reason)) {
      throw new PredictError('IMAGE_TOO_LARGE', `${file}: JPEG is too large to decode (${reason}); scale it down first`, file);
    }
    throw corrupt('JPEG', file, e);
  }
}

function checkSize(width: number, height: number, file: string): void {
  if (width * height > MAX_IMAGE_MEGAPIXELS * 1e6) {
    throw new PredictError(
      'IMAGE_TOO_LARGE',
      `${file}: ${width}×${height} pixels is more than the ${MAX_IMAGE_MEGAPIXELS} megapixels accepted; scale it down first`,
      file,
    );
  }
}

function corrupt(format: string, file: string, cause: unknown): PredictError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new PredictError('IMAGE_CORRUPT', `${file}: has a ${format} signature but could not be decoded (${reason}); the file is damaged or truncated`, file);
}
