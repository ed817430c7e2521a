// Messages ↔ bytes: msgpack encoding of typed messages, and decoding of WebSocket frames into
// validated messages. Decoding never throws; every failure is a ProtocolError.

import { Packr, Unpackr, type Options } from 'msgpackr';
import type { DecodeLimits } from './constants.js';
import { protocolError } from './errors.js';
import { indexListBytes } from './indexLists.js';
import { resolveLimits } from './limits.js';
import type { Message } from './messages.js';
import { validateMessage, type DecodeResult } from './validate.js';

// Plain msgpack that any language's library reads: string-keyed maps (no msgpackr records),
// Uint8Array as bin, absent optional fields left out (skipValues is supported but not in the typings).
const packr = new Packr({
  useRecords: false,
  variableMapSize: true,
  encodeUndefinedAsNil: true,
  skipValues: [undefined],
} as Options);
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/**
 * Encodes one message as one msgpack map (send it as one binary frame). Trusts the types: it does
 * not validate, so encode only messages built through the typed API.
 */
export function encodeMessage(msg: Message): Uint8Array {
  return packr.pack(toWire(msg));
}

/** Decodes and validates one binary frame's bytes. Never throws. */
export function decodeMessage(bytes: Uint8Array, limits: Partial<DecodeLimits> = {}): DecodeResult {
  const resolved = resolveLimits(limits);
  if (!(bytes instanceof Uint8Array)) {
    return failure('UNDECODABLE', `expected the bytes of a binary frame, got ${typeof bytes}`);
  }
  if (bytes.byteLength > resolved.maxPayloadBytes) {
    return failure('TOO_LARGE', `frame of ${bytes.byteLength} bytes exceeds the limit of ${resolved.maxPayloadBytes} bytes`);
  }
  if (bytes.byteLength === 0) return failure('UNDECODABLE', 'empty frame');
  let value: unknown;
  try {
    value = unpackr.unpack(bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return failure('UNDECODABLE', `frame of ${bytes.byteLength} bytes is not one msgpack value: ${reason.slice(0, 200)}`);
  }
  return validateMessage(value, resolved);
}

/** What `ws` hands to a 'message' listener: Buffer, ArrayBuffer or Buffer[] (binaryType 'fragments'). */
export type FrameData = Uint8Array | ArrayBuffer | readonly Uint8Array[];

/**
 * Decodes what a `ws` 'message' event delivered: `ws.on('message', (data, isBinary) =>
 * decodeFrame(data, isBinary, limits))`. Text frames are refused (TEXT_FRAME). Never throws.
 */
export function decodeFrame(data: FrameData, isBinary: boolean, limits: Partial<DecodeLimits> = {}): DecodeResult {
  if (!isBinary) return failure('TEXT_FRAME', 'received a text frame; this protocol sends msgpack in binary frames only');
  if (data instanceof Uint8Array) return decodeMessage(data, limits);
  if (data instanceof ArrayBuffer) return decodeMessage(new Uint8Array(data), limits);
  if (Array.isArray(data) && data.every((f) => f instanceof Uint8Array)) {
    return decodeMessage(concatFragments(data as readonly Uint8Array[]), limits);
  }
  return failure('UNDECODABLE', `expected Buffer, ArrayBuffer or Buffer[], got ${typeof data}`);
}

function toWire(msg: Message): object {
  if (msg.type !== 'step') return msg;
  return {
    ...msg,
    indices: indexListBytes(msg.indices),
    nextIndices: msg.nextIndices && indexListBytes(msg.nextIndices),
  };
}

function concatFragments(fragments: readonly Uint8Array[]): Uint8Array {
  if (fragments.length === 1) return fragments[0];
  const total = fragments.reduce((sum, f) => sum + f.byteLength, 0);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const f of fragments) {
    bytes.set(f, offset);
    offset += f.byteLength;
  }
  return bytes;
}

function failure(code: 'UNDECODABLE' | 'TOO_LARGE' | 'TEXT_FRAME', message: string): DecodeResult {
  return { ok: false, error: protocolError(code, message) };
}
