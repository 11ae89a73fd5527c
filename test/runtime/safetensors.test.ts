import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_HEADER_BYTES, SafetensorsError, readSafetensorsHeader, readScalar, readTensorF32 } from '../../runtime/safetensors.js';
import { encodeSafetensors } from '../../runtime/safetensors-write.js';
import { tempDir } from '../fixtures/temp-dir.js';

const dir = tempDir('lf-st-');
function write(name: string, bytes: Uint8Array): string {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

function withHeader(header: unknown, data: Uint8Array = new Uint8Array(0), claimed?: bigint): Uint8Array {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(claimed ?? BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

describe('safetensors reader', () => {
  it('reads F32, F16 and BF16 tensors and scalars as float32', () => {
    const file = write('ok.safetensors', encodeSafetensors({
      a: { dtype: 'F32', shape: [2, 2], data: [1, -2, 0.5, 3] },
      h: { dtype: 'F16', shape: [3], data: [1.5, -0.25, 65504] },
      alpha: { dtype: 'F16', shape: [], data: [2] },
    }, { format: 'pt' }));
    const h = readSafetensorsHeader(file);
    expect([...h.tensors.keys()]).toEqual(['a', 'h', 'alpha']);
    expect(h.metadata).toEqual({ format: 'pt' });
    expect([...readTensorF32(h, 'a')]).toEqual([1, -2, 0.5, 3]);
    expect([...readTensorF32(h, 'h')]).toEqual([1.5, -0.25, 65504]);
    expect(readScalar(h, 'alpha')).toBe(2);
    // BF16: the top half of the float32 bits.
    const bf = Buffer.alloc(4);
    bf.writeUInt16LE(0x3fc0, 0); // 1.5
    bf.writeUInt16LE(0xc000, 2); // -2
    const bfFile = write('bf.safetensors', withHeader({ b: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] } }, bf));
    expect([...readTensorF32(readSafetensorsHeader(bfFile), 'b')]).toEqual([1.5, -2]);
  });

  it('refuses an absurd header size, a header longer than the file, and a non-JSON header', () => {
    const absurd = write('absurd.safetensors', withHeader({}, undefined, BigInt(MAX_HEADER_BYTES) + 1n));
    expect(() => readSafetensorsHeader(absurd)).toThrow(/absurd\.safetensors: header claims 100000001 bytes/);
    const long = write('long.safetensors', withHeader({}, undefined, 5000n));
    expect(() => readSafetensorsHeader(long)).toThrow(/header claims 5000 bytes but the file has/);
    const notJson = Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{{{{')]);
    expect(() => readSafetensorsHeader(write('bad.safetensors', notJson))).toThrow(SafetensorsError);
    expect(() => readSafetensorsHeader(write('tiny.safetensors', new Uint8Array(3)))).toThrow(/too short/);
  });

  it('names the first key whose offsets lie or run past a truncated file', () => {
    const lying = write('lying.safetensors', withHeader({ 'x.lora_up.weight': { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] } }, new Uint8Array(16)));
    expect(() => readSafetensorsHeader(lying)).toThrow(/lying\.safetensors: tensor 'x\.lora_up\.weight' claims bytes 0\.\.12 \(12\) but F32 \[2, 2\] needs 16/);
    const full = encodeSafetensors({ k: { dtype: 'F32', shape: [8], data: [1, 2, 3, 4, 5, 6, 7, 8] } });
    const truncated = write('trunc.safetensors', full.subarray(0, full.length - 4));
    expect(() => readSafetensorsHeader(truncated)).toThrow(/trunc\.safetensors: tensor 'k' claims bytes up to \d+ but the file has \d+ \(truncated or lying header\)/);
    const dtype = write('dtype.safetensors', withHeader({ q: { dtype: 'F8', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)));
    expect(() => readSafetensorsHeader(dtype)).toThrow(/tensor 'q' has unsupported dtype "F8"/);
  });
});
