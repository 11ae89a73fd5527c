/**
 * Decodes a protobuf message straight from a file without reading it whole: small sub-messages go to
 * protobufjs in one piece, large ones are walked field by field and fields the reflection type does not
 * declare (tensor weights) are skipped by seeking. ONNX files reach 2 GiB; this keeps reads to kilobytes.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import protobuf from 'protobufjs';
import { ModelLoadError } from './errors.js';

/** A decoded message as plain data (64-bit integers as numbers, enums as numbers). */
export type ProtoObject = Record<string, unknown>;

const WINDOW = 64 * 1024;
/** Messages up to this size are decoded in one protobufjs call. */
const WHOLE_DECODE_LIMIT = 1024 * 1024;
const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: Number, defaults: false, arrays: false };

/** Reads a file through a small sliding window (large reads are read directly). */
export class FileWindow {
  private buf = Buffer.alloc(0);
  private start = 0;
  constructor(private readonly fd: number, readonly size: number) {}

  read(pos: number, len: number): Buffer {
    if (pos < 0 || len < 0 || pos + len > this.size) {
      throw new ModelLoadError(`truncated protobuf: wanted bytes ${pos}..${pos + len} of a ${this.size}-byte file`);
    }
    if (pos >= this.start && pos + len <= this.start + this.buf.length) {
      return this.buf.subarray(pos - this.start, pos - this.start + len);
    }
    if (len > WINDOW) {
      const out = Buffer.alloc(len);
      readSync(this.fd, out, 0, len, pos);
      return out;
    }
    const n = Math.min(WINDOW, this.size - pos);
    this.buf = Buffer.alloc(n);
    readSync(this.fd, this.buf, 0, n, pos);
    this.start = pos;
    return this.buf.subarray(0, len);
  }
}

function decodeWhole(type: protobuf.Type, bytes: Uint8Array): ProtoObject {
  return type.toObject(type.decode(bytes), TO_OBJECT);
}

function mergeField(into: ProtoObject, field: protobuf.Field, value: unknown): void {
  if (value === undefined) return;
  if (field.repeated) {
    const prev = into[field.name];
    const add = Array.isArray(value) ? value : [value];
    into[field.name] = Array.isArray(prev) ? [...prev, ...add] : add;
  } else {
    into[field.name] = value;
  }
}

/** One field of a message in a file: its number, wire type, and the byte ranges of the field and its value. */
export interface ProtoFieldSpan {
  readonly no: number;
  readonly wire: number;
  /** Where the field (tag included) starts and ends. */
  readonly start: number;
  readonly end: number;
  /** Where its value starts (after the length prefix for length-delimited fields). */
  readonly valueStart: number;
}

/** The fields of the message in bytes [start, end) of a file, in order, without decoding their values. */
export function* protoFields(win: FileWindow, start: number, end: number): Generator<ProtoFieldSpan> {
  let pos = start;
  while (pos < end) {
    const head = win.read(pos, Math.min(20, end - pos));
    const r = protobuf.Reader.create(head);
    const tag = r.uint32();
    const wire = tag & 7;
    let valueStart: number;
    let valueEnd: number;
    if (wire === 0) {
      r.skipType(0);
      valueStart = pos;
      valueEnd = pos + r.pos;
    } else if (wire === 1 || wire === 5) {
      valueStart = pos;
      valueEnd = pos + r.pos + (wire === 1 ? 8 : 4);
    } else if (wire === 2) {
      const len = r.uint32();
      valueStart = pos + r.pos;
      valueEnd = valueStart + len;
    } else {
      throw new ModelLoadError(`unsupported protobuf wire type ${wire} at byte ${pos}`);
    }
    if (valueEnd > end) throw new ModelLoadError(`protobuf field at byte ${pos} runs past its message`);
    yield { no: tag >>> 3, wire, start: pos, end: valueEnd, valueStart };
    pos = valueEnd;
  }
}

function decodeRange(win: FileWindow, type: protobuf.Type, start: number, end: number): ProtoObject {
  if (end - start <= WHOLE_DECODE_LIMIT) return decodeWhole(type, win.read(start, end - start));
  const out: ProtoObject = {};
  for (const f of protoFields(win, start, end)) {
    const field = type.fieldsById[f.no];
    if (!field) continue;
    const sub = field.resolvedType;
    if (sub instanceof protobuf.Type && f.wire === 2) {
      mergeField(out, field, decodeRange(win, sub, f.valueStart, f.end));
    } else {
      // Re-decode just this field (tag included) with the reflection type, then merge it.
      mergeField(out, field, decodeWhole(type, win.read(f.start, f.end - f.start))[field.name]);
    }
  }
  return out;
}

/** Decodes the whole file as `type`, skipping undeclared fields by seeking past them. */
export function decodeProtoFile(path: string, type: protobuf.Type): ProtoObject {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    return decodeRange(new FileWindow(fd, size), type, 0, size);
  } catch (e) {
    if (e instanceof ModelLoadError) throw e;
    throw new ModelLoadError(`cannot parse ${path} as an ONNX model: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    closeSync(fd);
  }
}

/** Typed accessors over decoded plain data (no casts). */
export function objectField(o: ProtoObject, key: string): ProtoObject | undefined {
  const v = o[key];
  return isObject(v) ? v : undefined;
}

export function objectList(o: ProtoObject, key: string): ProtoObject[] {
  const v = o[key];
  return Array.isArray(v) ? v.filter(isObject) : [];
}

export function stringField(o: ProtoObject, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' ? v : undefined;
}

export function numberField(o: ProtoObject, key: string): number | undefined {
  const v = o[key];
  return typeof v === 'number' ? v : undefined;
}

function isObject(v: unknown): v is ProtoObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}
