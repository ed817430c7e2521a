// Named numbers of the wire protocol: the version, WebSocket close codes and default decode limits.
// Everything that a peer in another language would need to agree on lives here.

/** Bumped on any change that an old peer could misread; see docs/protocol.md "Versioning". */
export const PROTOCOL_VERSION = 3;

/**
 * Tensor element types on the wire, all little-endian: IEEE 754 single precision, IEEE 754 half
 * precision, and bfloat16 (the top half of a float32). A run uses one, named in its welcome.
 */
export const WIRE_DTYPES = ['float32', 'float16', 'bfloat16'] as const;
export type WireDtype = (typeof WIRE_DTYPES)[number];
/** What a run uses unless `--wire-dtype` says otherwise, and what a welcome without `wireDtype` means. */
export const DEFAULT_WIRE_DTYPE: WireDtype = 'float32';
export const BYTES_PER_WIRE_ELEMENT: Readonly<Record<WireDtype, number>> = Object.freeze({ float32: 4, float16: 2, bfloat16: 2 });
/** Bytes of the widest element type: payload limits are sized with it. */
export const BYTES_PER_ELEMENT = BYTES_PER_WIRE_ELEMENT.float32;

/**
 * WebSocket close codes. 1000/1003/1009 are the standard ones (RFC 6455); 4000-4999 are ours.
 * `ws` closes with 1009 by itself when a frame exceeds `maxPayload`.
 */
export const CloseCode = {
  NORMAL: 1000,
  /** A text frame arrived; this protocol is binary frames only. */
  UNSUPPORTED_DATA: 1003,
  MESSAGE_TOO_BIG: 1009,
  /** Too many handshakes pending, or this address failed too many: try again later (RFC 6455 1013). */
  TRY_AGAIN_LATER: 1013,
  /** The peer's proof of the token was wrong (either direction). */
  BAD_TOKEN: 4001,
  VERSION_MISMATCH: 4002,
  DUPLICATE_WORKER_ID: 4003,
  MALFORMED_MESSAGE: 4004,
  RUN_FINISHED: 4005,
  /** A well-formed message that is not allowed now (e.g. `gradients` before `hello`). */
  UNEXPECTED_MESSAGE: 4006,
  /** No `hello`/`auth` (or no `challenge`/`welcome`) within the handshake timeout. */
  HANDSHAKE_TIMEOUT: 4007,
  /** The run has its --workers members and its standbys: try again later. */
  RUN_FULL: 4008,
  /** Too many of this worker's frames were refused in a row: it is out of this run. */
  EVICTED: 4009,
  /**
   * The run stopped before its end at a stop request (SIGINT, SIGTERM, pm2 stop). Like
   * RUN_FAILED, a restarted coordinator continues it, so a worker should stay available rather
   * than end as if the run were done (RUN_FINISHED).
   */
  RUN_STOPPED: 4010,
  /** The run stopped on an error (e.g. a checkpoint that cannot be written); the bye says which. */
  RUN_FAILED: 4011,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** RFC 6455 caps a close frame's reason at 123 bytes of UTF-8; `ws` throws beyond that. */
export const MAX_CLOSE_REASON_BYTES = 123;

/** Bounds applied while decoding, so a hostile or broken peer cannot make us allocate or loop without end. */
export interface DecodeLimits {
  /** Largest frame accepted, in bytes; pass the same number to `ws` as `maxPayload`. */
  maxPayloadBytes: number;
  /** Longest id or tensor name (workerId, runId, tensor names, backend, device), in UTF-16 units. */
  maxNameLength: number;
  /** Longest free text (error messages, bye reasons, tokens, strings inside config), in UTF-16 units. */
  maxTextLength: number;
  /** Most tensors (or trainable names) in one list. */
  maxTensors: number;
  /** Most dimensions in one tensor shape. */
  maxRank: number;
  /** Most example indices in one `indices` or `nextIndices` list. */
  maxIndices: number;
  /** Deepest nesting inside `config` / `modelSpec`. */
  maxJsonDepth: number;
  /** Most values (objects, arrays, scalars) inside one `config` / `modelSpec`. */
  maxJsonNodes: number;
}

export const DEFAULT_LIMITS: Readonly<DecodeLimits> = Object.freeze({
  maxPayloadBytes: 64 * 1024 * 1024,
  maxNameLength: 256,
  maxTextLength: 4096,
  maxTensors: 1024,
  maxRank: 8,
  maxIndices: 65_536,
  maxJsonDepth: 32,
  maxJsonNodes: 100_000,
});

/** Fixed allowance for everything in a frame that is not tensor data or index lists (field names, JSON). */
export const DEFAULT_FRAME_OVERHEAD_BYTES = 64 * 1024;
