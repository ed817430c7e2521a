// The typed messages exchanged by coordinator and workers. This is what the rest of the code sees;
// how they become bytes is codec.ts' business (only `indices` differ: Int32Array here, bin bytes on the wire).

import type { WireTensor } from './tensors.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Worker → coordinator, first message on a connection. */
export interface HelloMessage {
  type: 'hello';
  /** Stable across reconnects; [A-Za-z0-9._:@-]{1,maxNameLength}. */
  workerId: string;
  protocolVersion: number;
  /** NONCE_BYTES fresh random bytes: the coordinator's proof of the token covers them (handshake.ts). */
  nonce: Uint8Array;
  /** tfjs backend name, e.g. 'tensorflow', 'wasm', 'cpu'. */
  backend: string;
  /** Free-form device description, e.g. 'cpu x8' or a GPU name. */
  device: string;
  pid: number;
  /** True when reconnecting to a run this worker already took part in. */
  resume?: boolean;
}

export interface ShardInfo {
  /** 0-based position of this worker among `workers`. */
  workerIndex: number;
  workers: number;
}

/** Coordinator → worker, answer to a `hello`: its own nonce and its proof that it knows the token. */
export interface ChallengeMessage {
  type: 'challenge';
  /** NONCE_BYTES fresh random bytes. */
  nonce: Uint8Array;
  /** HMAC-SHA256(token, coordinator label ‖ hello.nonce ‖ nonce). */
  proof: Uint8Array;
}

/** Worker → coordinator, answer to a `challenge` whose proof checked out. */
export interface AuthMessage {
  type: 'auth';
  /** HMAC-SHA256(token, worker label ‖ challenge.nonce ‖ hello.nonce). */
  proof: Uint8Array;
}

/** Coordinator → worker, once `auth` checked out and the worker has a slot. */
export interface WelcomeMessage {
  type: 'welcome';
  runId: string;
  /** The run config as plain JSON; its schema belongs to the coordinator/training modules. */
  config: JsonObject;
  /** The model spec as plain JSON; its schema belongs to the model module. */
  modelSpec: JsonObject;
  weightsVersion: number;
  /** Every model variable (trainable and not), full values. */
  weights: WireTensor[];
  /** Names of the variables that `gradients` must carry, each one of `weights`. */
  trainable: string[];
  /**
   * Names of the batch-norm moving statistics that `bnStats` must carry (those of trainable
   * layers), each one of `weights` and none of `trainable`. Absent: every moving statistic.
   * Variables in neither list are frozen: after the welcome no message carries them.
   */
  statistics?: string[];
  shardInfo: ShardInfo;
}

/** Coordinator → worker: compute gradients for these examples at `weightsVersion`. */
export interface StepMessage {
  type: 'step';
  step: number;
  epoch: number;
  weightsVersion: number;
  /** Dataset indices of this worker's part of the global batch. */
  indices: Int32Array;
  /** This worker's indices for the next step, sent early so it can prefetch. */
  nextIndices?: Int32Array;
  /** Seed of this step's augmentation; an unsigned 32-bit integer. */
  augmentSeed: number;
  /** Seed of the next step's augmentation (differs from augmentSeed across an epoch boundary). */
  nextAugmentSeed?: number;
}

/** Worker → coordinator: the result of one `step`. */
export interface GradientsMessage {
  type: 'gradients';
  step: number;
  weightsVersion: number;
  workerId: string;
  exampleCount: number;
  /** Mean loss over the `exampleCount` examples (may be NaN/Infinity when training diverged). */
  loss: number;
  /** Number of examples classified correctly, at most `exampleCount`. */
  correct: number;
  /** Mean gradient over the examples, one tensor per name in `welcome.trainable`. */
  gradients: WireTensor[];
  /** Batch-norm moving mean/variance after the step, one tensor per name in `welcome.statistics`. */
  bnStats: WireTensor[];
  timings: { computeMs: number; encodeMs: number };
}

/** Coordinator → worker: new weights after an optimizer step. */
export interface WeightsMessage {
  type: 'weights';
  weightsVersion: number;
  step: number;
  /** With `full` false, only variables of `welcome.trainable` and `welcome.statistics`. */
  tensors: WireTensor[];
  /** True: `tensors` holds every variable. False: only some; the receiver keeps the others. */
  full: boolean;
}

/** Either direction; liveness and clock information. */
export interface HeartbeatMessage {
  type: 'heartbeat';
  /** Sender's clock, milliseconds since the Unix epoch. */
  time: number;
}

/** Either direction, usually just before a close. */
export interface ErrorMessage {
  type: 'error';
  /** A ProtocolErrorCode or an application code such as 'BAD_TOKEN'. */
  code: string;
  message: string;
}

/** Either direction: the sender is about to close on purpose. */
export interface ByeMessage {
  type: 'bye';
  reason: string;
}

export type Message =
  | HelloMessage
  | ChallengeMessage
  | AuthMessage
  | WelcomeMessage
  | StepMessage
  | GradientsMessage
  | WeightsMessage
  | HeartbeatMessage
  | ErrorMessage
  | ByeMessage;

export type MessageType = Message['type'];
export type MessageOf<T extends MessageType> = Extract<Message, { type: T }>;

export type WorkerMessage = HelloMessage | AuthMessage | GradientsMessage | HeartbeatMessage | ErrorMessage | ByeMessage;
export type CoordinatorMessage =
  | ChallengeMessage
  | WelcomeMessage
  | StepMessage
  | WeightsMessage
  | HeartbeatMessage
  | ErrorMessage
  | ByeMessage;
