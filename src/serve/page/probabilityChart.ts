/// <reference lib="dom" />
// The prediction and a bar per class. Each bar carries its probability in data-probability
// (full precision), so tests and tools read numbers, not rounded text.
import type { Prediction } from '../../inference/classify.js';
import { MNIST_SIZE } from '../../inference/preprocess.js';

export function createProbabilityChart(container: HTMLElement, numClasses: number) {
  const rows = Array.from({ length: numClasses }, (_, c) => {
    const row = document.createElement('div');
    row.className = 'bar-row';
    row.dataset.class = String(c);
    row.innerHTML = `<span class="bar-label">${c}</span><span class="bar-track"><span class="bar"></span></span><span class="bar-value"></span>`;
    container.append(row);
    return { row, bar: row.querySelector<HTMLElement>('.bar')!, value: row.querySelector<HTMLElement>('.bar-value')! };
  });
  return {
    show(prediction: Prediction | undefined): void {
      rows.forEach(({ row, bar, value }, c) => {
        const p = prediction?.probabilities[c] ?? 0;
        row.dataset.probability = String(p);
        row.classList.toggle('predicted', prediction?.predicted === c);
        bar.style.width = `${(100 * p).toFixed(1)}%`;
        value.textContent = prediction ? `${(100 * p).toFixed(1)}%` : '';
      });
    },
  };
}

/** Paints the 28×28 model input (values in [0, 1], white ink on black) into a canvas. */
export function showModelInput(canvas: HTMLCanvasElement, input: Float32Array | undefined): void {
  const ctx = canvas.getContext('2d')!;
  const image = ctx.createImageData(MNIST_SIZE, MNIST_SIZE);
  for (let i = 0; i < MNIST_SIZE * MNIST_SIZE; i++) {
    const v = Math.round(255 * (input?.[i] ?? 0));
    image.data.set([v, v, v, 255], i * 4);
  }
  ctx.putImageData(image, 0, 0);
}
