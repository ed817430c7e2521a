// The field types the file schemas share, each with the sentence an error shows (`expected`).
import { Type, type TSchema } from '@sinclair/typebox';

export const positiveInteger = (extra: { maximum?: number; expected?: string } = {}) =>
  Type.Integer({ minimum: 1, ...(extra.maximum === undefined ? {} : { maximum: extra.maximum }), expected: extra.expected ?? 'a positive integer' });

export const nonNegativeInteger = (expected = 'a non-negative integer') => Type.Integer({ minimum: 0, expected });

/** A finite number (TypeBox refuses NaN and ±Infinity by default, as JSON cannot carry them). */
export const finiteNumber = (expected = 'a finite number') => Type.Number({ expected });

export const ISO_TIME = Type.String({ minLength: 1, expected: 'an ISO 8601 time' });

export function withExpected<S extends TSchema>(schema: S, expected: string): S {
  return { ...schema, expected };
}
