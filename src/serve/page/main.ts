/// <reference lib="dom" />
// The drawing page: loads the checkpoint served at /model/model.json into tfjs in the browser
// and predicts while the person draws. Drawn pictures go through the same preprocessing as
// `dsdc-dist predict` on a file; a 28×28 test-set digit goes through the same code as
// `predict --idx` (hook below), so the page and the CLI agree.
//
// Query string: ?backend=webgl|cpu picks the tfjs backend (default: tfjs's choice).
// Test hooks: window.__dsdcPredictPixels(grey levels 0..255, 784 of them) → Prediction;
// window.__dsdcLastPrediction; body[data-state] is loading | ready | failed and
// body[data-predictions] counts predictions shown.
import * as tf from '@tensorflow/tfjs';
import type { Split } from '../../data/types.js';
import '../../model/index.js';
import { classProbabilities, predictionsFrom, type Prediction } from '../../inference/classify.js';
import { MNIST_SIZE, preprocessDigit } from '../../inference/preprocess.js';
import { predictProbabilities } from '../../inference/evaluate.js';
import { createDrawingPad } from './drawingPad.js';
import { createProbabilityChart, showModelInput } from './probabilityChart.js';

export const MODEL_URL = '/model/model.json';

declare global {
  interface Window {
    __dsdcPredictPixels?: (pixels: ArrayLike<number>) => Prediction;
    __dsdcLastPrediction?: Prediction;
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

async function start(): Promise<void> {
  const status = $('status');
  const backend = new URLSearchParams(location.search).get('backend');
  if (backend) await tf.setBackend(backend);
  await tf.ready();
  status.textContent = `loading the model (tfjs ${tf.getBackend()})…`;
  const model = await tf.loadLayersModel(MODEL_URL);
  const numClasses = model.outputs[0].shape[1] as number;
  const chart = createProbabilityChart($('bars'), numClasses);
  const inputCanvas = $<HTMLCanvasElement>('model-input');
  let shown = 0;

  const show = (input: Float32Array | undefined, probabilities: Float32Array | undefined) => {
    const prediction = probabilities ? predictionsFrom(probabilities, numClasses)[0] : undefined;
    showModelInput(inputCanvas, input);
    chart.show(prediction);
    $('prediction').textContent = prediction ? String(prediction.predicted) : '–';
    window.__dsdcLastPrediction = prediction;
    document.body.dataset.predictions = String(++shown);
    return prediction;
  };

  // One prediction per animation frame at most, on the newest drawing.
  let pending = false;
  const predictDrawing = () => {
    pending = false;
    const input = preprocessDigit(pad.image());
    show(input, input ? classProbabilities(model, input, 1) : undefined);
  };
  const pad = createDrawingPad($<HTMLCanvasElement>('pad'), () => {
    if (!pending) requestAnimationFrame(predictDrawing);
    pending = true;
  });
  $('clear').addEventListener('click', () => pad.clear());

  window.__dsdcPredictPixels = (pixels) => {
    const split: Split = { images: Uint8Array.from(pixels), labels: new Uint8Array(1), count: 1, rows: MNIST_SIZE, cols: MNIST_SIZE };
    const input = Float32Array.from(split.images, (v) => v / 255);
    return show(input, predictProbabilities(model, split, numClasses))!;
  };

  show(undefined, undefined);
  status.textContent = `model loaded; tfjs backend: ${tf.getBackend()}`;
  document.body.dataset.state = 'ready';
}

start().catch((e: unknown) => {
  $('status').textContent = `could not start: ${e instanceof Error ? e.message : String(e)}`;
  document.body.dataset.state = 'failed';
  console.error(e);
});
