// Names a model's variables the way checkpoints and the wire do: by layer/weight name
// ("sdc2/pointwise_kernel"), independent of tfjs's per-process unique suffixes.
import * as tf from '@tensorflow/tfjs';

export interface NamedVariable {
  name: string;
  variable: tf.Variable;
  trainable: boolean;
}

export function namedVariables(model: tf.LayersModel): NamedVariable[] {
  const trainable = new Set(model.trainableWeights.map((w) => w.originalName));
  return model.weights.map((weight) => ({
    name: weight.originalName,
    // LayerVariable keeps its tf.Variable private; `read()` returns that very variable.
    variable: weight.read() as tf.Variable,
    trainable: trainable.has(weight.originalName),
  }));
}

export function trainableVariables(model: tf.LayersModel): NamedVariable[] {
  return namedVariables(model).filter((v) => v.trainable);
}

/**
 * Moving statistics of batch norm: state that is not trained but averaged across workers. Only
 * those of trainable layers: a frozen batch norm runs in inference mode and never updates them.
 */
export function movingStatisticVariables(model: tf.LayersModel): NamedVariable[] {
  const frozenLayers = new Set(model.layers.filter((l) => !l.trainable).map((l) => l.name));
  return namedVariables(model).filter((v) => !v.trainable && /moving_(mean|variance)$/.test(v.name) && !frozenLayers.has(layerOf(v.name)));
}

/** The layer a variable belongs to: the part of its name before the first '/'. */
export function layerOf(variableName: string): string {
  const slash = variableName.indexOf('/');
  return slash < 0 ? variableName : variableName.slice(0, slash);
}

export function variableShapes(variables: NamedVariable[]): Map<string, number[]> {
  return new Map(variables.map((v) => [v.name, v.variable.shape.slice()]));
}
