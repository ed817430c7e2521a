// An event-file reader written from the formats' specs, independent of src/tensorboard: its
// own CRC-32C (bit by bit, no table), its own protobuf field parser, the field numbers of
// tensorboard's event.proto, summary.proto and tensor.proto. A torn last record is reported
// and skipped, as TensorBoard does; a bad CRC anywhere else is an error.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function crc32cBitwise(bytes: Uint8Array): number {
  let crc = ~0 >>> 0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

export function unmaskedOf(masked: number): number {
  const rotated = (masked - 0xa282ead8) >>> 0;
  return ((rotated >>> 17) | (rotated << 15)) >>> 0;
}

export interface ProtoField {
  field: number;
  wireType: number;
  /** varint (as bigint), fixed64/fixed32 raw bytes, or length-delimited bytes. */
  value: bigint | Uint8Array;
}

export function parseProto(bytes: Uint8Array): ProtoField[] {
  const fields: ProtoField[] = [];
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (at >= bytes.length) throw new Error('varint runs past the end');
      const b = bytes[at++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (at < bytes.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wireType = key & 7;
    if (wireType === 0) fields.push({ field, wireType, value: varint() });
    else if (wireType === 1 || wireType === 5) {
      const n = wireType === 1 ? 8 : 4;
      fields.push({ field, wireType, value: bytes.subarray(at, at + n) });
      at += n;
    } else if (wireType === 2) {
      const n = Number(varint());
      if (at + n > bytes.length) throw new Error('length-delimited field runs past the end');
      fields.push({ field, wireType, value: bytes.subarray(at, at + n) });
      at += n;
    } else throw new Error(`unknown wire type ${wireType}`);
  }
  return fields;
}

const text = (b: ProtoField['value']) => new TextDecoder().decode(b as Uint8Array);
const one = (fields: ProtoField[], n: number) => fields.find((f) => f.field === n);

export interface ReadValue {
  tag: string;
  simpleValue?: number;
  text?: string;
  pluginName?: string;
  dataClass?: number;
  dtype?: number;
}

export interface ReadEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  sessionLogStatus?: number;
  values: ReadValue[];
}

export function decodeEvent(bytes: Uint8Array): ReadEvent {
  const fields = parseProto(bytes);
  const wall = one(fields, 1)?.value as Uint8Array | undefined;
  const event: ReadEvent = {
    wallTime: wall ? new DataView(wall.buffer, wall.byteOffset, 8).getFloat64(0, true) : 0,
    step: Number((one(fields, 2)?.value as bigint | undefined) ?? 0n),
    values: [],
  };
  const version = one(fields, 3);
  if (version) event.fileVersion = text(version.value);
  const sessionLog = one(fields, 7);
  if (sessionLog) event.sessionLogStatus = Number(one(parseProto(sessionLog.value as Uint8Array), 1)?.value ?? 0n);
  const summary = one(fields, 5);
  if (summary) {
    for (const v of parseProto(summary.value as Uint8Array).filter((f) => f.field === 1)) {
      const vf = parseProto(v.value as Uint8Array);
      const value: ReadValue = { tag: text(one(vf, 1)!.value) };
      const simple = one(vf, 2)?.value as Uint8Array | undefined;
      if (simple) value.simpleValue = new DataView(simple.buffer, simple.byteOffset, 4).getFloat32(0, true);
      const metadata = one(vf, 9);
      if (metadata) {
        const mf = parseProto(metadata.value as Uint8Array);
        const plugin = one(mf, 1);
        if (plugin) value.pluginName = text(one(parseProto(plugin.value as Uint8Array), 1)!.value);
        value.dataClass = Number(one(mf, 4)?.value ?? 0n);
      }
      const tensor = one(vf, 8);
      if (tensor) {
        const tf = parseProto(tensor.value as Uint8Array);
        value.dtype = Number(one(tf, 1)?.value ?? 0n);
        value.text = text(one(tf, 8)!.value);
      }
      event.values.push(value);
    }
  }
  return event;
}

export interface ReadFile {
  events: ReadEvent[];
  /** True when the file ended inside a record. */
  tornTail: boolean;
}

export function readEventFile(data: Buffer): ReadFile {
  const events: ReadEvent[] = [];
  let at = 0;
  while (at < data.length) {
    if (at + 12 > data.length) return { events, tornTail: true };
    const header = data.subarray(at, at + 8);
    if (unmaskedOf(data.readUInt32LE(at + 8)) !== crc32cBitwise(header)) throw new Error(`bad length CRC at byte ${at}`);
    const length = Number(data.readBigUInt64LE(at));
    if (at + 12 + length + 4 > data.length) return { events, tornTail: true };
    const payload = data.subarray(at + 12, at + 12 + length);
    if (unmaskedOf(data.readUInt32LE(at + 12 + length)) !== crc32cBitwise(payload)) throw new Error(`bad data CRC at byte ${at}`);
    events.push(decodeEvent(payload));
    at += 12 + length + 4;
  }
  return { events, tornTail: false };
}

/** Every event file of a directory, in name order (TensorBoard's order). */
export function readEventDir(dir: string): Array<{ name: string } & ReadFile> {
  return readdirSync(dir)
    .filter((name) => name.includes('tfevents'))
    .sort()
    .map((name) => ({ name, ...readEventFile(readFileSync(join(dir, name))) }));
}

/** scalar tag → [step, value] pairs over all files, in file order. */
export function scalarsOf(files: Array<ReadFile>): Map<string, Array<[number, number]>> {
  const out = new Map<string, Array<[number, number]>>();
  for (const file of files) {
    for (const event of file.events) {
      for (const value of event.values) {
        if (value.simpleValue === undefined) continue;
        if (!out.has(value.tag)) out.set(value.tag, []);
        out.get(value.tag)!.push([event.step, value.simpleValue]);
      }
    }
  }
  return out;
}
