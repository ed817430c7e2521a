import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  decodeMessage,
  decodeTensorValues,
  encodeMessage,
  encodeTensor,
  type GradientsMessage,
  type Message,
  type WeightsMessage,
  type WireTensor,
} from '../../src/protocol/index.js';
import { dsdcLayout, int32Range, randomTensor, sampleMessages, seededRandom } from './fixtures.js';
import { readStandardMsgpack } from './referenceMsgpack.js';

function roundTrip(message: Message): Message {
  const result = decodeMessage(encodeMessage(message));
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.message;
}

function gradientMessageOfDsdcSize(): GradientsMessage {
  const random = seededRandom(1);
  const { trainable, bnStats } = dsdcLayout();
  return {
    type: 'gradients',
    step: 123_456,
    weightsVersion: 123_456,
    workerId: 'worker-host-17:31337',
    exampleCount: 128,
    loss: 0.123456789,
    correct: 117,
    gradients: trainable.map((s) => randomTensor(s, random)),
    bnStats: bnStats.map((s) => randomTensor(s, random)),
    timings: { computeMs: 812.375, encodeMs: 1.0625 },
  };
}

describe('encodeMessage / decodeMessage', () => {
  it.each(sampleMessages().map((m, i) => [`${m.type} #${i}`, m] as const))('round-trips %s unchanged', (_, message) => {
    expect(roundTrip(message)).toEqual(message);
  });

  it('decodes tensor values bit for bit', () => {
    const message = gradientMessageOfDsdcSize();
    const decoded = roundTrip(message) as GradientsMessage;
    const bytesOf = (values: Float32Array) => Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    decoded.gradients.forEach((t, i) => {
      const sent = bytesOf(decodeTensorValues(message.gradients[i]));
      expect(bytesOf(decodeTensorValues(t)).equals(sent), t.name).toBe(true);
    });
  });

  it('sends only the part of a larger buffer that a tensor views', () => {
    const backing = Float32Array.of(99, 1, 2, 99);
    const message: Message = { type: 'weights', weightsVersion: 1, step: 0, full: false, tensors: [encodeTensor('w', [2], backing.subarray(1, 3))] };
    const decoded = roundTrip(message) as WeightsMessage;
    expect([...decodeTensorValues(decoded.tensors[0])]).toEqual([1, 2]);
  });

  it('leaves absent optional fields absent after decoding', () => {
    const hello = sampleMessages().find((m) => m.type === 'hello')!;
    expect(Object.keys(roundTrip(hello))).not.toContain('resume');
  });

  it('writes standard msgpack only (string-keyed maps, bin for bytes, no extension types)', () => {
    for (const message of sampleMessages()) {
      expect(() => readStandardMsgpack(encodeMessage(message))).not.toThrow();
    }
  });

  it('sends index lists as one bin of little-endian int32s', () => {
    const wire = readStandardMsgpack(
      encodeMessage({ type: 'step', step: 1, epoch: 0, weightsVersion: 1, indices: Int32Array.from([1, 256]), augmentSeed: 5 }),
    ) as Record<string, unknown>;
    expect(wire.indices).toEqual(new Uint8Array([1, 0, 0, 0, 0, 1, 0, 0]));
  });

  it('keeps a 1,000-index step within 4 bytes per index plus 64 bytes', () => {
    const bytes = encodeMessage({ type: 'step', step: 9, epoch: 0, weightsVersion: 9, indices: int32Range(50_000, 1000), augmentSeed: 3 });
    expect(bytes.byteLength).toBeLessThanOrEqual(4 * 1000 + 64);
  });

  it('encodes the DSDC-Net gradient message in its raw float32 bytes plus under 2 KiB', () => {
    const message = gradientMessageOfDsdcSize();
    const count = (tensors: WireTensor[]) => tensors.reduce((n, t) => n + t.data.byteLength / 4, 0);
    expect(count(message.gradients)).toBe(35_722);
    expect(count(message.bnStats)).toBe(832);
    const rawBytes = 4 * (count(message.gradients) + count(message.bnStats));
    const tensorCount = message.gradients.length + message.bnStats.length;

    const overhead = encodeMessage(message).byteLength - rawBytes;
    console.info(`gradients frame: ${overhead} bytes over ${rawBytes} raw float32 bytes in ${tensorCount} tensors`);
    expect(overhead).toBeGreaterThan(0);
    expect(overhead).toBeLessThan(2048);
  });

  it('refuses a frame larger than maxPayloadBytes before decoding it', () => {
    const bytes = encodeMessage(gradientMessageOfDsdcSize());
    const result = decodeMessage(bytes, { maxPayloadBytes: bytes.byteLength - 1 });
    expect(result).toMatchObject({ ok: false, error: { code: 'TOO_LARGE' } });
    expect(decodeMessage(bytes, { maxPayloadBytes: bytes.byteLength }).ok).toBe(true);
  });

  it('refuses trailing bytes after the message', () => {
    const bytes = encodeMessage({ type: 'bye', reason: 'done' });
    const padded = new Uint8Array([...bytes, 0xc0]);
    expect(decodeMessage(padded)).toMatchObject({ ok: false, error: { code: 'UNDECODABLE' } });
  });

  it('refuses an empty frame', () => {
    expect(decodeMessage(new Uint8Array(0))).toMatchObject({ ok: false, error: { code: 'UNDECODABLE' } });
  });

  it('answers with an error, not a throw, when handed something other than bytes', () => {
    expect(decodeMessage('hello' as unknown as Uint8Array)).toMatchObject({ ok: false, error: { code: 'UNDECODABLE' } });
  });

  it('refuses a message nested too deep for the stack without throwing', () => {
    const deep = new Uint8Array(200_000).fill(0x91); // arrays of one array of one array...
    expect(decodeMessage(deep)).toMatchObject({ ok: false, error: { code: 'UNDECODABLE' } });
  });
});

describe('decodeFrame', () => {
  const bye = encodeMessage({ type: 'bye', reason: 'run finished' });

  it('refuses text frames', () => {
    expect(decodeFrame(Buffer.from('{"type":"bye"}'), false)).toMatchObject({ ok: false, error: { code: 'TEXT_FRAME' } });
  });

  it('decodes a Buffer, an ArrayBuffer and Buffer fragments alike', () => {
    const arrayBuffer = bye.buffer.slice(bye.byteOffset, bye.byteOffset + bye.byteLength) as ArrayBuffer;
    const fragments = [Buffer.from(bye.subarray(0, 3)), Buffer.from(bye.subarray(3))];
    for (const data of [Buffer.from(bye), arrayBuffer, fragments]) {
      expect(decodeFrame(data, true)).toEqual({ ok: true, message: { type: 'bye', reason: 'run finished' } });
    }
  });
});
