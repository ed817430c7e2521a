// A naive MessagePack reader written from the spec, standing in for "another language's library":
// it knows only the standard types (nil, bool, int, float, str, bin, array, map) and rejects
// extension types, so frames it can read carry nothing msgpackr-specific.

export type PlainValue = null | boolean | number | bigint | string | Uint8Array | PlainValue[] | { [key: string]: PlainValue };

export function readStandardMsgpack(bytes: Uint8Array): PlainValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const take = (n: number): number => {
    if (pos + n > bytes.byteLength) throw new Error(`truncated at byte ${pos}`);
    const start = pos;
    pos += n;
    return start;
  };
  const str = (n: number) => new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(take(n), pos));
  const bin = (n: number) => new Uint8Array(bytes.subarray(take(n), pos)); // a copy, never a Buffer
  const array = (n: number) => Array.from({ length: n }, () => read());
  const map = (n: number) => {
    const result: { [key: string]: PlainValue } = {};
    for (let i = 0; i < n; i++) {
      const key = read();
      if (typeof key !== 'string') throw new Error(`map key at byte ${pos} is not a string`);
      result[key] = read();
    }
    return result;
  };
  function read(): PlainValue {
    const b = view.getUint8(take(1));
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b >= 0x80 && b <= 0x8f) return map(b & 0x0f);
    if (b >= 0x90 && b <= 0x9f) return array(b & 0x0f);
    if (b >= 0xa0 && b <= 0xbf) return str(b & 0x1f);
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return bin(view.getUint8(take(1)));
      case 0xc5: return bin(view.getUint16(take(2)));
      case 0xc6: return bin(view.getUint32(take(4)));
      case 0xca: return view.getFloat32(take(4));
      case 0xcb: return view.getFloat64(take(8));
      case 0xcc: return view.getUint8(take(1));
      case 0xcd: return view.getUint16(take(2));
      case 0xce: return view.getUint32(take(4));
      case 0xcf: return view.getBigUint64(take(8));
      case 0xd0: return view.getInt8(take(1));
      case 0xd1: return view.getInt16(take(2));
      case 0xd2: return view.getInt32(take(4));
      case 0xd3: return view.getBigInt64(take(8));
      case 0xd9: return str(view.getUint8(take(1)));
      case 0xda: return str(view.getUint16(take(2)));
      case 0xdb: return str(view.getUint32(take(4)));
      case 0xdc: return array(view.getUint16(take(2)));
      case 0xdd: return array(view.getUint32(take(4)));
      case 0xde: return map(view.getUint16(take(2)));
      case 0xdf: return map(view.getUint32(take(4)));
      default: throw new Error(`type byte 0x${b.toString(16)} at ${pos - 1} is not standard msgpack (ext or reserved)`);
    }
  }
  const value = read();
  if (pos !== bytes.byteLength) throw new Error(`${bytes.byteLength - pos} trailing bytes`);
  return value;
}
