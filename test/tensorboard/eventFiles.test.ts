// TensorBoard event files: the checksum and varints against published vectors, and files
// written by EventFileWriter read back by an independent reader (eventReader.ts).
import { appendFileSync, readdirSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { crc32c, maskCrc32c } from '../../src/tensorboard/crc32c.js';
import { EventFileWriter } from '../../src/tensorboard/eventFileWriter.js';
import { encodeVarint, ProtoWriter } from '../../src/tensorboard/protobuf.js';
import { frameRecord } from '../../src/tensorboard/tfrecord.js';
import { tempDir } from '../helpers/cli.js';
import { crc32cBitwise, parseProto, readEventDir, readEventFile, scalarsOf, unmaskedOf } from './eventReader.js';

const ascii = (s: string) => new TextEncoder().encode(s);
const dirs: string[] = [];
const newDir = () => {
  const dir = tempDir('tensorboard');
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('crc32c', () => {
  it('matches the published check value and the RFC 3720 vectors', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('agrees with a bit-by-bit implementation on random data', () => {
    let seed = 7;
    const bytes = Uint8Array.from({ length: 1000 }, () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) & 0xff);
    for (const n of [1, 3, 17, 255, 1000]) expect(crc32c(bytes.subarray(0, n))).toBe(crc32cBitwise(bytes.subarray(0, n)));
  });

  it('masks as TensorFlow does: rotate right by 15, add 0xa282ead8, and unmasks back', () => {
    expect(maskCrc32c(0)).toBe(0xa282ead8);
    expect(maskCrc32c(0x00008000)).toBe((1 + 0xa282ead8) >>> 0);
    for (const crc of [0xe3069283, 0xffffffff, 0x12345678]) expect(unmaskedOf(maskCrc32c(crc))).toBe(crc);
  });
});

describe('protobuf encoding', () => {
  it('writes varints as the protobuf documentation shows', () => {
    expect([...encodeVarint(0)]).toEqual([0]);
    expect([...encodeVarint(1)]).toEqual([1]);
    expect([...encodeVarint(127)]).toEqual([0x7f]);
    expect([...encodeVarint(128)]).toEqual([0x80, 0x01]);
    expect([...encodeVarint(150)]).toEqual([0x96, 0x01]);
    expect([...encodeVarint(300)]).toEqual([0xac, 0x02]);
    expect([...encodeVarint(2 ** 32)]).toEqual([0x80, 0x80, 0x80, 0x80, 0x10]);
    expect([...encodeVarint(Number.MAX_SAFE_INTEGER)]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]);
  });

  it('refuses what a varint cannot hold, naming the value', () => {
    expect(() => encodeVarint(-1)).toThrow(/non-negative safe integer, got -1/);
    expect(() => encodeVarint(1.5)).toThrow(/got 1.5/);
  });

  it('writes fields that a generic parser reads back', () => {
    const bytes = new ProtoWriter().varint(2, 150).string(1, 'testing').double(3, 0.5).float(4, -2).finish();
    expect([...bytes.subarray(0, 3)]).toEqual([0x10, 0x96, 0x01]);
    const fields = parseProto(bytes);
    expect(fields.map((f) => [f.field, f.wireType])).toEqual([[2, 0], [1, 2], [3, 1], [4, 5]]);
    expect(new TextDecoder().decode(fields[1].value as Uint8Array)).toBe('testing');
  });
});

describe('TFRecord framing', () => {
  it('frames data as length, masked CRC of the length, data, masked CRC of the data', () => {
    const framed = frameRecord(ascii('abc'));
    expect(framed.length).toBe(8 + 4 + 3 + 4);
    expect(framed.readBigUInt64LE(0)).toBe(3n);
    expect(unmaskedOf(framed.readUInt32LE(8))).toBe(crc32cBitwise(framed.subarray(0, 8)));
    expect(framed.subarray(12, 15).toString()).toBe('abc');
    expect(unmaskedOf(framed.readUInt32LE(15))).toBe(crc32cBitwise(ascii('abc')));
  });
});

describe('EventFileWriter', () => {
  it('writes a file version record, scalars and text that an independent reader decodes', () => {
    const dir = newDir();
    const writer = new EventFileWriter(dir, { warn: () => undefined, now: () => 1_700_000_000.25 });
    writer.summary(0, [{ tag: 'config', text: '    {"epochs": 1}' }]);
    writer.scalars(1, { 'train/loss': 2.5, 'train/accuracy': 0.125, skipped: undefined, 'not/finite': NaN });
    writer.scalars(2, { 'train/loss': 1.75 });
    writer.close();
    const [file, ...others] = readdirSync(dir);
    expect(others).toEqual([]);
    expect(file).toMatch(/^events\.out\.tfevents\.1700000000\.[^.]+.*\.\d+\.0$/);
    const { events, tornTail } = readEventFile(readFileSync(join(dir, file)));
    expect(tornTail).toBe(false);
    expect(events[0]).toMatchObject({ fileVersion: 'brain.Event:2', wallTime: 1_700_000_000.25 });
    expect(events[1].values).toEqual([{ tag: 'config', text: '    {"epochs": 1}', pluginName: 'text', dataClass: 2, dtype: 7 }]);
    expect(events[2]).toMatchObject({ step: 1, values: [{ tag: 'train/loss', simpleValue: 2.5 }, { tag: 'train/accuracy', simpleValue: 0.125 }] });
    expect(scalarsOf([{ events, tornTail }]).get('train/loss')).toEqual([[1, 2.5], [2, 1.75]]);
  });

  it('leaves a file whose torn last record the reader skips, and a new writer starts a new file', () => {
    const dir = newDir();
    const first = new EventFileWriter(dir, { warn: () => undefined });
    first.scalars(1, { 'train/loss': 2 });
    first.scalars(2, { 'train/loss': 1.5 });
    first.close();
    const [name] = readdirSync(dir);
    const path = join(dir, name);
    // A process killed mid-write: the last record is cut short.
    truncateSync(path, readFileSync(path).length - 3);
    const second = new EventFileWriter(dir, { warn: () => undefined });
    second.sessionStarted(1);
    second.scalars(2, { 'train/loss': 1.375 });
    second.close();
    const files = readEventDir(dir);
    expect(files).toHaveLength(2);
    expect(files[0].tornTail).toBe(true);
    expect(files[1].tornTail).toBe(false);
    expect(files[1].events[1]).toMatchObject({ step: 1, sessionLogStatus: 1 });
    expect(scalarsOf(files).get('train/loss')).toEqual([[1, 2], [2, 1.375]]);
  });

  it('a reader refuses a record whose data does not match its CRC', () => {
    const dir = newDir();
    const writer = new EventFileWriter(dir, { warn: () => undefined });
    writer.scalars(1, { x: 1 });
    writer.close();
    const path = join(dir, readdirSync(dir)[0]);
    const bytes = readFileSync(path);
    bytes[bytes.length - 6] ^= 0xff;
    rmSync(path);
    appendFileSync(path, bytes);
    expect(() => readEventFile(readFileSync(path))).toThrow(/bad data CRC/);
  });

  it('warns once when the directory cannot be written, and training goes on', () => {
    const dir = newDir();
    const blocked = join(dir, 'file');
    appendFileSync(blocked, 'not a directory');
    const warnings: string[] = [];
    const writer = new EventFileWriter(join(blocked, 'tensorboard'), { warn: (m) => warnings.push(m) });
    writer.scalars(1, { x: 1 });
    writer.scalars(2, { x: 2 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/cannot write TensorBoard events in .*tensorboard: .*training goes on/);
  });
});
