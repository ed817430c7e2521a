// TFRecord framing, the container of event files: for each record, its length (uint64 LE), the
// masked CRC-32C of those 8 bytes, the data, the masked CRC-32C of the data. A reader that
// meets a record cut short (a process killed mid-write) stops there.
import { maskedCrc32c } from './crc32c.js';

const LENGTH_BYTES = 8;
const CRC_BYTES = 4;

export function frameRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(LENGTH_BYTES + CRC_BYTES + data.length + CRC_BYTES);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, LENGTH_BYTES)), LENGTH_BYTES);
  out.set(data, LENGTH_BYTES + CRC_BYTES);
  out.writeUInt32LE(maskedCrc32c(data), LENGTH_BYTES + CRC_BYTES + data.length);
  return out;
}
