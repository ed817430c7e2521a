// Protocol errors (CodedError subclasses, passed as values): the codes a decoder or checker can report, and how each one closes a socket.

import { CodedError } from '../errors/codedError.js';
import { CloseCode, MAX_CLOSE_REASON_BYTES } from './constants.js';

export type ProtocolErrorCode =
  /** The bytes are not one complete msgpack value. */
  | 'UNDECODABLE'
  /** The decoded value (or a nested field that must be an object) is not a plain map. */
  | 'NOT_AN_OBJECT'
  | 'UNKNOWN_TYPE'
  | 'MISSING_FIELD'
  /** A field has the wrong type, is out of range, or breaks a rule between fields. */
  | 'BAD_FIELD'
  /** A tensor object is malformed: name, shape, dtype, data length, or a duplicate name. */
  | 'BAD_TENSOR'
  /** A tensor (or trainable name) that the receiver does not know. */
  | 'UNKNOWN_TENSOR'
  /** A tensor of a variable that is frozen in this run (fine-tuning): no message after `welcome` may carry it. */
  | 'FROZEN_TENSOR'
  /** A tensor that the receiver expects is absent. */
  | 'MISSING_TENSOR'
  | 'SHAPE_MISMATCH'
  | 'NON_FINITE'
  /** `hello.protocolVersion` differs from PROTOCOL_VERSION. */
  | 'VERSION_MISMATCH'
  | 'TEXT_FRAME'
  | 'TOO_LARGE';

/**
 * A frame or tensor set refused by the protocol: the code, and one sentence naming the field or
 * tensor, what was expected and what came. Returned as a value by the decoder and the checks
 * (they never throw on bad input); a caller that stops on one throws it as it is.
 */
export class ProtocolError extends CodedError<ProtocolErrorCode> {}

export function protocolError(code: ProtocolErrorCode, message: string): ProtocolError {
  return new ProtocolError(code, message);
}

const closeCodeByError: Partial<Record<ProtocolErrorCode, CloseCode>> = {
  VERSION_MISMATCH: CloseCode.VERSION_MISMATCH,
  TEXT_FRAME: CloseCode.UNSUPPORTED_DATA,
  TOO_LARGE: CloseCode.MESSAGE_TOO_BIG,
};

/**
 * The close frame to send when a received frame failed to decode: a code from CloseCode and the
 * error's message cut to the 123 bytes a close reason may hold (ws.close throws on longer ones).
 */
export function closeFrameFor(error: ProtocolError): { code: CloseCode; reason: string } {
  return {
    code: closeCodeByError[error.code] ?? CloseCode.MALFORMED_MESSAGE,
    reason: truncateUtf8(`${error.code}: ${error.message}`, MAX_CLOSE_REASON_BYTES),
  };
}

/** Longest prefix of `text` whose UTF-8 encoding fits in `maxBytes`, never splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char, 'utf8');
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end);
}
