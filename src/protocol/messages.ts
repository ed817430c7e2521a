// The typed messages exchanged by coordinator and workers, derived from their wire schemas
// (schemas.ts): this is what the rest of the code sees. Two things differ from the wire, both
// undone by validate.ts: an absent optional field is absent (the wire may also say nil), and
// index lists are Int32Array (little-endian int32 bytes on the wire, see indexLists.ts).
// What each field means is documented in docs/protocol.md and beside its schema.

import type { WireMessageOf, WireMessageType } from './schemas.js';

/** Optional fields without the wire's nil. */
type Decoded<T> = { [K in keyof T]: Exclude<T[K], null> };
type Typed<K extends WireMessageType> = Decoded<WireMessageOf<K>>;
type WithIndexLists<T> = Omit<T, 'indices' | 'nextIndices'> & {
  /** Dataset indices of this worker's part of the global batch. */
  indices: Int32Array;
  /** This worker's indices for the next step, sent early so it can prefetch. */
  nextIndices?: Int32Array;
};

/** Worker → coordinator, first message on a connection. */
export type HelloMessage = Typed<'hello'>;
/** Coordinator → worker, answer to a `hello`: its own nonce and its proof that it knows the token (handshake.ts). */
export type ChallengeMessage = Typed<'challenge'>;
/** Worker → coordinator, answer to a `challenge` whose proof checked out. */
export type AuthMessage = Typed<'auth'>;
/** Coordinator → worker, once `auth` checked out and the worker has a slot: the run config, model spec and all weights. */
export type WelcomeMessage = Typed<'welcome'>;
export type ShardInfo = WelcomeMessage['shardInfo'];
/** Coordinator → worker: compute gradients for these examples at `weightsVersion`. */
export type StepMessage = WithIndexLists<Typed<'step'>>;
/** Worker → coordinator: the result of one `step`. */
export type GradientsMessage = Typed<'gradients'>;
/** Coordinator → worker: new weights after an optimizer step. */
export type WeightsMessage = Typed<'weights'>;
/** Either direction; liveness and clock information. */
export type HeartbeatMessage = Typed<'heartbeat'>;
/** Either direction, usually just before a close. */
export type ErrorMessage = Typed<'error'>;
/** Either direction: the sender is about to close on purpose. */
export type ByeMessage = Typed<'bye'>;

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
