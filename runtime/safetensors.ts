/**
 * Reads .safetensors files (huggingface/safetensors, docs "Format"): an 8-byte little-endian header
 * length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?}, then the
 * tensor bytes, offsets relative to the end of the header. Every header claim is checked against the file
 * before a byte of tensor data is trusted: the header's size, each dtype and shape against its offsets, and
 * each range against the file's length. Tensors are read one at a time, never the whole file.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { float16ToFloat32 } from './float16.js';

import { SafetensorsError } from './errors.js';
export { SafetensorsError } from './errors.js';

/** NOTE: the reference implementation refuses headers over 100 MB (safetensors' MAX_HEADER_SIZE). */
export const MAX_HEADER_BYTES = 100_000_000;

const ELEMENT_BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
const FLOAT_DTYPES = new Set(['F64', 'F32', 'F16', 'BF16']);

export interface SafetensorInfo {
  readonly key: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Absolute byte range in the file. */
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsHeader {
  readonly file: string;
  readonly tensors: ReadonlyMap<string, SafetensorInfo>;
  readonly metadata: Readonly<Record<string, string>>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readExactly(fd: number, len: number, pos: number, file: string, what: string): Buffer {
  const buf = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, buf, got, len - got, pos + got);
    if (n === 0) throw new SafetensorsError(`${file}: truncated while reading ${what} (${got} of ${len} bytes at offset ${pos})`);
    got += n;
  }
  return buf;
}

function checkEntry(file: string, key: string, v: unknown, dataStart: number, size: number): SafetensorInfo {
  const bad = (why: string): SafetensorsError => new SafetensorsError(`${file}: tensor '${key}' ${why}`);
  if (!isRecord(v)) throw bad('is not described by an object');
  const { dtype, shape, data_offsets: offsets } = v;
  if (typeof dtype !== 'string' || !(dtype in ELEMENT_BYTES)) throw bad(`has unsupported dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((d): d is number => Number.isSafeInteger(d) && d >= 0)) throw bad(`has an invalid shape ${JSON.stringify(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o): o is number => Number.isSafeInteger(o) && o >= 0)) {
    throw bad(`has invalid data_offsets ${JSON.stringify(offsets)}`);
  }
  const [b, e] = offsets;
  const count = shape.reduce((a, d) => a * d, 1);
  if (e < b || e - b !== count * ELEMENT_BYTES[dtype]) {
    throw bad(`claims bytes ${b}..${e} (${e - b}) but ${dtype} [${shape.join(', ')}] needs ${count * ELEMENT_BYTES[dtype]}`);
  }
  if (dataStart + e > size) throw bad(`claims bytes up to ${dataStart + e} but the file has ${size} (truncated or lying header)`);
  return { key, dtype, shape, begin: dataStart + b, end: dataStart + e };
}

/** Parses and checks the header of `file`. */
export function readSafetensorsHeader(file: string): SafetensorsHeader {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new SafetensorsError(`${file}: cannot open (${e instanceof Error ? e.message : String(e)})`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size < 8) throw new SafetensorsError(`${file}: ${size} bytes is too short for a safetensors header`);
    const n = readExactly(fd, 8, 0, file, 'the header length').readBigUInt64LE(0);
    if (n > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(`${file}: header claims ${n} bytes (at most ${MAX_HEADER_BYTES} allowed)`);
    const len = Number(n);
    if (8 + len > size) throw new SafetensorsError(`${file}: header claims ${len} bytes but the file has ${size - 8} after the length`);
    let json: unknown;
    try {
      json = JSON.parse(readExactly(fd, len, 8, file, 'the header').toString('utf8'));
    } catch (e) {
      throw new SafetensorsError(`${file}: header is not JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    if (!isRecord(json)) throw new SafetensorsError(`${file}: header is not a JSON object`);
    const tensors = new Map<string, SafetensorInfo>();
    let metadata: Record<string, string> = {};
    for (const [key, v] of Object.entries(json)) {
      if (key === '__metadata__') {
        if (isRecord(v)) metadata = Object.fromEntries(Object.entries(v).filter((kv): kv is [string, string] => typeof kv[1] === 'string'));
        continue;
      }
      tensors.set(key, checkEntry(file, key, v, 8 + len, size));
    }
    return { file, tensors, metadata };
  } finally {
    closeSync(fd);
  }
}

/** Reads one floating-point tensor as float32 (F16 and BF16 widened exactly, F64 rounded). */
export function readTensorF32(header: SafetensorsHeader, key: string): Float32Array {
  const info = header.tensors.get(key);
  if (!info) throw new SafetensorsError(`${header.file}: has no tensor '${key}'`);
  if (!FLOAT_DTYPES.has(info.dtype)) throw new SafetensorsError(`${header.file}: tensor '${key}' is ${info.dtype}, not a float type`);
  const fd = openSync(header.file, 'r');
  let raw: Buffer;
  try {
    raw = readExactly(fd, info.end - info.begin, info.begin, header.file, `tensor '${key}'`);
  } finally {
    closeSync(fd);
  }
  const count = info.shape.reduce((a, d) => a * d, 1);
  // NOTE: safetensors data is little-endian, as are the hosts onnxruntime-node ships for; the copy aligns it.
  const aligned = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length);
  switch (info.dtype) {
    case 'F32':
      return new Float32Array(aligned);
    case 'F64':
      return Float32Array.from(new Float64Array(aligned));
    case 'F16':
      return float16ToFloat32(new Uint16Array(aligned));
    default: {
      // BF16: the top half of the float32 bits.
      const src = new Uint16Array(aligned);
      const bits = new Uint32Array(count);
      for (let i = 0; i < count; i++) bits[i] = src[i] << 16;
      return new Float32Array(bits.buffer);
    }
  }
}

/** Reads a scalar (or one-element) float tensor such as a LoRA `.alpha`. */
export function readScalar(header: SafetensorsHeader, key: string): number {
  const v = readTensorF32(header, key);
  if (v.length !== 1) throw new SafetensorsError(`${header.file}: tensor '${key}' should hold one number, holds ${v.length}`);
  return v[0];
}
