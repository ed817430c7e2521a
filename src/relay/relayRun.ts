// The run as the relay's coordinator last described it: the welcome (config, model spec,
// variable sets), every weight at the current version (a copy, since decoded tensors are views
// into frames), and what the relay's local workers get from it: their own welcome, and the full
// weights when one has to catch up. Weights from upstream pass the same TensorContract a
// worker applies before the relay believes them.
import { isDeepStrictEqual } from 'node:util';
import {
  DEFAULT_WIRE_DTYPE,
  TensorContract,
  mapFromTensors,
  variableDtypes,
  type DtypeOfVariable,
  type WireDtype,
  tensorsFromMap,
  type WeightsMessage,
  type WelcomeMessage,
  type WireTensor,
} from '../protocol/index.js';
import { RelayError } from './errors.js';

export type Adoption = 'first' | 'same';

export class RelayRun {
  private upstreamWelcome?: WelcomeMessage;
  private contract?: TensorContract;
  readonly weights = new Map<string, Float32Array>();
  readonly shapes = new Map<string, readonly number[]>();
  private currentVersion = -1;

  get version(): number {
    return this.currentVersion;
  }

  get welcomed(): boolean {
    return this.upstreamWelcome !== undefined;
  }

  get trainableNames(): readonly string[] {
    return this.requireWelcome().trainable;
  }

  /** The moving statistics the gradients carry (absent from the welcome: every moving mean and variance). */
  get statisticNames(): readonly string[] {
    const welcome = this.requireWelcome();
    return welcome.statistics ?? [...this.shapes.keys()].filter((n) => /moving_(mean|variance)$/.test(n));
  }

  /** The run's wire dtype (the welcome's), in which the relay passes weights down and gradients up. */
  get wireDtype(): WireDtype {
    return this.requireWelcome().wireDtype ?? DEFAULT_WIRE_DTYPE;
  }

  /** Each variable's wire dtype: the run's, but float32 for the moving statistics (variableDtypes.ts). */
  get dtypeOf(): DtypeOfVariable {
    return variableDtypes(this.wireDtype, this.statisticNames);
  }

  get batchSize(): number {
    return Number(this.requireWelcome().config.batchSize);
  }

  /**
   * Takes a welcome from the coordinator: the first one, or one after a reconnect, which must be
   * of the same run (config, model, variable sets): its local workers were built for that one.
   */
  adopt(welcome: WelcomeMessage): Adoption {
    const first = this.upstreamWelcome === undefined;
    if (!first) {
      // Compared as values, not as text: a resumed coordinator's config comes from state.json, keys in another order.
      const changed = (['config', 'modelSpec', 'trainable', 'statistics'] as const).find((field) => !isDeepStrictEqual(welcome[field], this.upstreamWelcome![field]));
      if (changed) {
        throw new RelayError('RUN_CHANGED', `the coordinator's new welcome has another ${changed} than the run this relay's workers joined; start the relay (and its workers) again for the new run`);
      }
    }
    if (first) {
      for (const t of welcome.weights) this.shapes.set(t.name, t.shape);
      this.contract = new TensorContract(this.shapes, { trainable: welcome.trainable, statistics: welcome.statistics ?? this.statisticsOf(welcome) }, welcome.wireDtype ?? DEFAULT_WIRE_DTYPE);
    }
    const problem = this.contract!.checkWeights(welcome.weights, true);
    if (problem) throw new RelayError('WELCOME_MISMATCH', `welcome weights: ${problem.code}: ${problem.message}`);
    this.upstreamWelcome = welcome;
    this.store(welcome.weights);
    this.currentVersion = welcome.weightsVersion;
    return first ? 'first' : 'same';
  }

  /** Why these weights cannot be applied (a worker would refuse them too), or undefined once applied. */
  apply(weights: WeightsMessage): string | undefined {
    const problem = this.requireContract().checkWeights(weights.tensors, weights.full);
    if (problem) return problem.code === 'NON_FINITE' ? problem.message : `${problem.code}: ${problem.message}`;
    this.store(weights.tensors);
    this.currentVersion = weights.weightsVersion;
    return undefined;
  }

  /** The welcome a local worker gets: the coordinator's, with the current weights and its place among the relay's workers. */
  localWelcome(workerIndex: number, workers: number): WelcomeMessage {
    const welcome = this.requireWelcome();
    return {
      ...welcome,
      weightsVersion: this.currentVersion,
      weights: tensorsFromMap(this.weights, this.shapes, undefined, this.dtypeOf),
      shardInfo: { workerIndex: Math.min(workerIndex, workers - 1), workers },
    };
  }

  fullWeights(): WeightsMessage {
    return { type: 'weights', weightsVersion: this.currentVersion, step: this.currentVersion, tensors: tensorsFromMap(this.weights, this.shapes, undefined, this.dtypeOf), full: true };
  }

  private store(tensors: readonly WireTensor[]): void {
    for (const [name, values] of mapFromTensors(tensors)) {
      const held = this.weights.get(name);
      if (held && held.length === values.length) held.set(values);
      else this.weights.set(name, Float32Array.from(values));
    }
  }

  private statisticsOf(welcome: WelcomeMessage): string[] {
    return welcome.weights.map((t) => t.name).filter((n) => /moving_(mean|variance)$/.test(n));
  }

  private requireWelcome(): WelcomeMessage {
    if (!this.upstreamWelcome) throw new RelayError('OUT_OF_ORDER', 'the coordinator sent a step or weights before its welcome');
    return this.upstreamWelcome;
  }

  private requireContract(): TensorContract {
    this.requireWelcome();
    return this.contract!;
  }
}
