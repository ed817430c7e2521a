// Classifying image files: read, decode, prepare each one; a file that fails is reported with
// its error and the others are still classified, in the order given.
import { readFile } from 'node:fs/promises';
import type * as tf from '@tensorflow/tfjs';
import { classProbabilities, predictionsFrom, type Prediction } from './classify.js';
import { decodeImage } from './decode.js';
import { PredictError } from './errors.js';
import { MNIST_SIZE, preprocessDigit } from './preprocess.js';

// The read failures people meet, in words.
const READ_FAILURES: Record<string, string> = { ENOENT: 'no such file', EISDIR: 'it is a directory', EACCES: 'permission denied' };

export type FileResult = { file: string; prediction: Prediction } | { file: string; error: PredictError };

/** The model input for one image file; throws PredictError naming the file. */
export async function loadDigitFile(file: string): Promise<Float32Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const reason = err.code === undefined ? err.message : `${err.code}${READ_FAILURES[err.code] ? `: ${READ_FAILURES[err.code]}` : ''}`;
    throw new PredictError('IMAGE_UNREADABLE', `${file}: cannot be read (${reason})`, file);
  }
  const input = preprocessDigit(decodeImage(bytes, file));
  if (input === undefined) {
    throw new PredictError('IMAGE_BLANK', `${file}: holds no digit (the picture is uniform: no ink stands out from the background)`, file);
  }
  return input;
}

export async function predictFiles(model: tf.LayersModel, files: string[]): Promise<FileResult[]> {
  const prepared = await Promise.all(
    files.map((file) =>
      loadDigitFile(file).then(
        (input) => ({ file, input }),
        (e: unknown) => {
          if (e instanceof PredictError) return { file, error: e };
          throw e;
        },
      ),
    ),
  );
  const inputs = prepared.flatMap((p) => ('input' in p ? [p.input] : []));
  const batch = new Float32Array(inputs.length * MNIST_SIZE * MNIST_SIZE);
  inputs.forEach((input, i) => batch.set(input, i * input.length));
  const numClasses = model.outputs[0].shape[1] as number;
  const predictions = predictionsFrom(classProbabilities(model, batch, inputs.length), numClasses);
  let next = 0;
  return prepared.map((p) => ('input' in p ? { file: p.file, prediction: predictions[next++] } : p));
}
