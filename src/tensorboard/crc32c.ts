// CRC-32C (Castagnoli), the checksum of TFRecord framing, and TensorFlow's "masked" form of it
// (a CRC stored next to the data it covers is rotated and offset, so that a CRC computed over
// data that itself holds CRCs does not degenerate).

/** The reflected Castagnoli polynomial. */
const CASTAGNOLI_REFLECTED = 0x82f63b78;
/** TensorFlow's mask offset (tensorflow/core/lib/hash/crc32c.h). */
const MASK_DELTA = 0xa282ead8;

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ CASTAGNOLI_REFLECTED : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export function maskCrc32c(crc: number): number {
  return (((crc >>> 15) | (crc << 17)) + MASK_DELTA) >>> 0;
}

export function maskedCrc32c(bytes: Uint8Array): number {
  return maskCrc32c(crc32c(bytes));
}
