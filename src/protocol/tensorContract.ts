// The one acceptance contract for the sets of tensors a run exchanges after the welcome, used by
// both ends: the coordinator checks a worker's gradients with it, the worker checks the
// coordinator's weights. A set is accepted when it carries only known variables, none of them
// frozen in this run, each with its shape and its data size, every expected one present (a
// partial weights update may carry a subset), and only finite values.
import { DEFAULT_WIRE_DTYPE, type WireDtype } from './constants.js';
import { protocolError, type ProtocolError } from './errors.js';
import { checkTensors, findNonFinite, type WireTensor } from './tensors.js';
import { variableDtypes, type DtypeOfVariable } from './variableDtypes.js';
import { findFrozenTensor, frozenVariables, type CarriedVariables } from './variableSets.js';

type Shapes = ReadonlyMap<string, readonly number[]>;

export class TensorContract {
  private readonly gradientShapes: Shapes;
  private readonly statisticShapes: Shapes;
  private readonly movingShapes: Shapes;
  private readonly frozen: ReadonlySet<string>;
  private readonly dtypeOf: DtypeOfVariable;

  /** `shapes`: every variable of the model; `carried`: the welcome's trainable and statistics lists; `dtype`: the run's wire dtype. */
  constructor(
    private readonly shapes: Shapes,
    carried: CarriedVariables,
    dtype: WireDtype = DEFAULT_WIRE_DTYPE,
  ) {
    this.dtypeOf = variableDtypes(dtype, carried.statistics);
    const pick = (names: readonly string[]) =>
      new Map(
        names.map((name) => {
          const shape = shapes.get(name);
          if (!shape) throw new RangeError(`TensorContract: '${name}' is carried but is not a variable of the model`);
          return [name, shape];
        }),
      );
    this.gradientShapes = pick(carried.trainable);
    this.statisticShapes = pick(carried.statistics);
    this.movingShapes = new Map([...this.gradientShapes, ...this.statisticShapes]);
    this.frozen = frozenVariables(shapes.keys(), carried);
  }

  /** A worker's gradients and batch-norm statistics for one step: exactly the carried sets. */
  checkGradients(gradients: readonly WireTensor[], bnStats: readonly WireTensor[]): ProtocolError | null {
    return (
      findFrozenTensor(gradients, this.frozen, 'gradients') ??
      findFrozenTensor(bnStats, this.frozen, 'bnStats') ??
      checkTensors(gradients, this.gradientShapes, { dtype: this.dtypeOf }) ??
      checkTensors(bnStats, this.statisticShapes, { dtype: this.dtypeOf }) ??
      nonFinite(gradients) ??
      nonFinite(bnStats)
    );
  }

  /** Weights from the coordinator: all variables when `full`, else some of the carried ones. */
  checkWeights(tensors: readonly WireTensor[], full: boolean): ProtocolError | null {
    const problem = full
      ? checkTensors(tensors, this.shapes, { dtype: this.dtypeOf })
      : (findFrozenTensor(tensors, this.frozen, 'weights.tensors') ?? checkTensors(tensors, this.movingShapes, { allowSubset: true, dtype: this.dtypeOf }));
    return problem ?? nonFinite(tensors);
  }
}

function nonFinite(tensors: readonly WireTensor[]): ProtocolError | null {
  const name = findNonFinite(tensors);
  return name === null ? null : protocolError('NON_FINITE', `NaN or Infinity in ${name}`);
}
