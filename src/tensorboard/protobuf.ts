// The little of protocol-buffer encoding that event files need: varints, fixed 32/64-bit
// numbers and length-delimited fields, written field by field. Messages are built as byte
// arrays and nested as length-delimited fields; no schema compiler, no reflection.
import { TensorBoardError } from './errors.js';

/** Wire types of the protobuf encoding. */
export const WireType = { varint: 0, fixed64: 1, lengthDelimited: 2, fixed32: 5 } as const;

/** Base-128 varint of a non-negative integer up to 2^53 (steps, lengths, enum values). */
export function encodeVarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new TensorBoardError('TENSORBOARD_BAD_VALUE', `a varint must be a non-negative safe integer, got ${value}`);
  const bytes: number[] = [];
  let rest = value;
  // Division, not shifts: JavaScript's bit operators work on 32 bits.
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Uint8Array.from(bytes);
}

function fieldKey(field: number, wireType: number): Uint8Array {
  return encodeVarint(field * 8 + wireType);
}

/** Appends fields in order; `finish()` gives the message's bytes. */
export class ProtoWriter {
  private readonly parts: Uint8Array[] = [];

  varint(field: number, value: number): this {
    this.parts.push(fieldKey(field, WireType.varint), encodeVarint(value));
    return this;
  }

  double(field: number, value: number): this {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat64(0, value, true);
    this.parts.push(fieldKey(field, WireType.fixed64), bytes);
    return this;
  }

  float(field: number, value: number): this {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.parts.push(fieldKey(field, WireType.fixed32), bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.parts.push(fieldKey(field, WireType.lengthDelimited), encodeVarint(value.length), value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  finish(): Uint8Array {
    return Buffer.concat(this.parts);
  }
}
