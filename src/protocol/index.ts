// Public API of the wire protocol. Coordinator and worker import from here, never from the files.

export {
  PROTOCOL_VERSION,
  CloseCode,
  DEFAULT_LIMITS,
  DEFAULT_FRAME_OVERHEAD_BYTES,
  MAX_CLOSE_REASON_BYTES,
  DEFAULT_WIRE_DTYPE,
  WIRE_DTYPES,
  BYTES_PER_WIRE_ELEMENT,
  type DecodeLimits,
  type WireDtype,
} from './constants.js';
export { ProtocolError, closeFrameFor, protocolError, type ProtocolErrorCode } from './errors.js';
export { maxPayloadBytes, resolveLimits, type PayloadBudget } from './limits.js';
export type {
  AuthMessage,
  ByeMessage,
  ChallengeMessage,
  CoordinatorMessage,
  ErrorMessage,
  GradientsMessage,
  HeartbeatMessage,
  HelloMessage,
  Message,
  MessageOf,
  MessageType,
  ShardInfo,
  StepMessage,
  WeightsMessage,
  WelcomeMessage,
  WorkerMessage,
} from './messages.js';
export {
  checkTensors,
  decodeTensorValues,
  elementCount,
  encodeTensor,
  findNonFinite,
  tensorDataBytes,
  type CheckTensorsOptions,
  type TensorSpec,
  type WireTensor,
} from './tensors.js';
export { isMessageType, validateMessage, type DecodeResult } from './validate.js';
export { decodeFrame, decodeMessage, encodeMessage, type FrameData } from './codec.js';
export { mapFromTensors, tensorsFromMap } from './tensorMaps.js';
export { findFrozenTensor, frozenVariables, type CarriedVariables } from './variableSets.js';
export { TensorContract } from './tensorContract.js';
export { variableDtypes, type DtypeOfVariable } from './variableDtypes.js';
export { HANDSHAKE_MAX_PAYLOAD_BYTES, NONCE_BYTES, PROOF_BYTES, coordinatorProof, makeNonce, proofsMatch, workerProof } from './handshake.js';
export { setMaxPayload } from './socketLimits.js';
