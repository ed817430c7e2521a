/// <reference lib="dom" />
// A canvas to draw on with mouse, pen or touch (pointer events): dark strokes on white, as on
// paper. Reports every change so the page can predict while the stroke is still being drawn.
import type { RasterImage } from '../../inference/preprocess.js';

export const PAD_BACKGROUND = '#ffffff';
export const PAD_INK = '#111111';
/** Stroke width as a fraction of the canvas side: a 280 px pad draws 20 px strokes, like a marker. */
export const STROKE_FRACTION = 1 / 14;

export interface DrawingPad {
  clear(): void;
  image(): RasterImage;
}

export function createDrawingPad(canvas: HTMLCanvasElement, onChange: () => void): DrawingPad {
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  let last: { x: number; y: number } | undefined;

  const clear = () => {
    ctx.fillStyle = PAD_BACKGROUND;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  };
  // Canvas pixels, whatever size CSS gives the element.
  const at = (e: PointerEvent) => {
    const rect = canvas.getBoundingClientRect();
    return { x: ((e.clientX - rect.left) * canvas.width) / rect.width, y: ((e.clientY - rect.top) * canvas.height) / rect.height };
  };
  const strokeTo = (p: { x: number; y: number }) => {
    ctx.strokeStyle = PAD_INK;
    ctx.lineWidth = canvas.width * STROKE_FRACTION;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo((last ?? p).x, (last ?? p).y);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
    last = p;
    onChange();
  };

  canvas.addEventListener('pointerdown', (e) => {
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    last = undefined;
    strokeTo(at(e));
  });
  canvas.addEventListener('pointermove', (e) => {
    if (last === undefined) return;
    e.preventDefault();
    strokeTo(at(e));
  });
  const end = () => {
    last = undefined;
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);

  clear();
  return {
    clear: () => {
      clear();
      onChange();
    },
    image: () => {
      const { width, height, data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      return { width, height, channels: 4, data };
    },
  };
}
