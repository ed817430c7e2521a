import { describe, expect, it } from 'vitest';
import {
  closeFrameFor,
  CloseCode,
  decodeMessage,
  DEFAULT_LIMITS,
  encodeMessage,
  maxPayloadBytes,
  protocolError,
  resolveLimits,
  type WireTensor,
} from '../../src/protocol/index.js';
import { DEFAULT_TRAIN_CONFIG } from '../../src/training/setup/config.js';
import { dsdcLayout, int32Range, randomTensor, seededRandom } from './fixtures.js';

describe('maxPayloadBytes', () => {
  it('is 4 bytes × params × 2 + two index lists + 64 KiB by default', () => {
    expect(maxPayloadBytes(1000)).toBe(4 * 1000 * 2 + 2 * 4 * DEFAULT_LIMITS.maxIndices + 64 * 1024);
  });

  it('follows the budget it is given', () => {
    expect(maxPayloadBytes(1000, { modelCopies: 1, maxIndices: 10, overheadBytes: 0 })).toBe(4000 + 80);
  });

  it('throws RangeError for a parameter count that is not a non-negative integer', () => {
    expect(() => maxPayloadBytes(-1)).toThrow(RangeError);
    expect(() => maxPayloadBytes(Number.NaN)).toThrow(/paramCount/);
  });

  it('admits the largest DSDC-Net frames: welcome with all weights and a step with full index lists', () => {
    const random = seededRandom(3);
    const { trainable, bnStats } = dsdcLayout();
    const weights: WireTensor[] = [...trainable, ...bnStats].map((s) => randomTensor(s, random));
    const paramCount = weights.reduce((n, t) => n + t.data.byteLength / 4, 0);
    const limits = { maxPayloadBytes: maxPayloadBytes(paramCount) };
    const welcome = encodeMessage({
      type: 'welcome',
      runId: 'r',
      config: { ...DEFAULT_TRAIN_CONFIG, dataDir: 'x'.repeat(4000) },
      modelSpec: DEFAULT_TRAIN_CONFIG.model,
      weightsVersion: 0,
      weights,
      trainable: trainable.map((s) => s.name),
      shardInfo: { workerIndex: 0, workers: 1 },
    });
    const indices = int32Range(0, DEFAULT_LIMITS.maxIndices);
    const step = encodeMessage({ type: 'step', step: 0, epoch: 0, weightsVersion: 0, indices, nextIndices: indices, augmentSeed: 0 });
    expect(decodeMessage(welcome, limits).ok).toBe(true);
    expect(decodeMessage(step, limits).ok).toBe(true);
  });
});

describe('resolveLimits', () => {
  it('keeps the default for every limit not given', () => {
    expect(resolveLimits({ maxTensors: 5, maxRank: undefined })).toEqual({ ...DEFAULT_LIMITS, maxTensors: 5 });
  });
});

describe('closeFrameFor', () => {
  it('closes a version mismatch with 4002 and other decode errors with their own codes', () => {
    expect(closeFrameFor(protocolError('VERSION_MISMATCH', 'v2 vs v1')).code).toBe(CloseCode.VERSION_MISMATCH);
    expect(closeFrameFor(protocolError('BAD_TENSOR', 'x')).code).toBe(CloseCode.MALFORMED_MESSAGE);
    expect(closeFrameFor(protocolError('TEXT_FRAME', 'x')).code).toBe(1003);
    expect(closeFrameFor(protocolError('TOO_LARGE', 'x')).code).toBe(1009);
  });

  it('cuts the reason to the 123 bytes a close frame holds, without splitting a character', () => {
    const { reason } = closeFrameFor(protocolError('BAD_FIELD', 'é'.repeat(200)));
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
    expect(reason.startsWith('BAD_FIELD: éé')).toBe(true);
    expect(reason).not.toContain('\uFFFD');
  });
});
