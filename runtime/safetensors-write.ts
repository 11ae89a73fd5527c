/** Writes .safetensors bytes (huggingface/safetensors "Format": u64 header length, JSON header, data), for toyworld and tests. */
import { toHalf } from './float16.js';

export interface SafetensorsEntry {
  readonly dtype: 'F32' | 'F16';
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

/** Encodes `tensors` in key order; the header is padded with spaces to 8 bytes, as the reference writer does. */
export function encodeSafetensors(tensors: Readonly<Record<string, SafetensorsEntry>>, metadata?: Readonly<Record<string, string>>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const parts: Buffer[] = [];
  let offset = 0;
  for (const [key, t] of Object.entries(tensors)) {
    const size = t.dtype === 'F32' ? 4 : 2;
    const buf = Buffer.alloc(t.data.length * size);
    for (let i = 0; i < t.data.length; i++) {
      if (t.dtype === 'F32') buf.writeFloatLE(t.data[i], 4 * i);
      else buf.writeUInt16LE(toHalf(t.data[i]), 2 * i);
    }
    header[key] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + buf.length] };
    offset += buf.length;
    parts.push(buf);
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([len, Buffer.from(json, 'utf8'), ...parts]);
}
