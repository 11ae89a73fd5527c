import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelLoadError, UnsafeExternalDataError } from '../../runtime/errors.js';
import { float32Output } from '../../runtime/io-meta.js';
import { inspectModelFile } from '../../runtime/model-file.js';
import { OnnxSession } from '../../runtime/onnx-session.js';
import { Tensor } from '../../runtime/tensor.js';
import { bytesTensor, externalDataModel, idsModel, unetModel, writeModel } from './fixtures/models.js';
import { A } from '../../toyworld/onnx/builder.js';
import { DataType } from '../../runtime/onnx-proto.js';

const root = mkdtempSync(path.join(tmpdir(), 'lf-extdata-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const weights = Buffer.from(Float32Array.from([1, 2, 3, 4]).buffer);

describe('inspectModelFile', () => {
  it('tells float16 models (I/O, weights or a Cast to float16) from float32 ones', () => {
    const dir = path.join(root, 'fp16');
    expect(inspectModelFile(writeModel(dir, 'f32.onnx', idsModel('int64'))).usesFloat16).toBe(false);
    expect(inspectModelFile(writeModel(dir, 'io.onnx', unetModel({ float: 'float16', timestep: 'int64', timestepShape: [], output: 'out_sample' }))).usesFloat16).toBe(true);
    const cast = idsModel('int64');
    cast.op('Cast', ['last_hidden_state'], { to: A.i(DataType.FLOAT16) });
    expect(inspectModelFile(writeModel(dir, 'cast.onnx', cast)).usesFloat16).toBe(true);
  });

  it('reads declared inputs and loads external data that stays inside the folder', async () => {
    const dir = path.join(root, 'ok', 'unet');
    mkdirSync(path.join(dir, 'sub'), { recursive: true });
    writeFileSync(path.join(dir, 'sub', 'weights.pb'), weights);
    const p = writeModel(dir, 'model.onnx', externalDataModel('sub/weights.pb'));
    const info = inspectModelFile(p);
    expect(info.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: [4], shapeKnown: true }]);
    expect(info.externalFiles).toHaveLength(1);
    expect(info.bytes).toBeGreaterThan(16);
    const s = await OnnxSession.create(p);
    const out = await s.run({ x: Tensor.float32([10, 20, 30, 40], [4]) });
    expect([...float32Output(out, 'y').data]).toEqual([11, 22, 33, 44]);
    await s.release();
  });

  it('refuses a location that climbs out of the model folder (CVE-2022-25882)', async () => {
    const dir = path.join(root, 'escape', 'unet');
    const p = writeModel(dir, 'model.onnx', externalDataModel('../../etc/passwd'));
    expect(() => inspectModelFile(p)).toThrow(UnsafeExternalDataError);
    expect(() => inspectModelFile(p)).toThrow(/'w_0'.*\.\.\/\.\.\/etc\/passwd/);
    await expect(OnnxSession.create(p)).rejects.toBeInstanceOf(UnsafeExternalDataError);
  });

  it('refuses absolute locations', () => {
    const p = writeModel(path.join(root, 'abs'), 'model.onnx', externalDataModel('/etc/passwd'));
    expect(() => inspectModelFile(p)).toThrow(/absolute/);
  });

  it('refuses a symlink inside the folder that points outside it', () => {
    const outside = path.join(root, 'secret.bin');
    writeFileSync(outside, weights);
    const dir = path.join(root, 'link');
    mkdirSync(dir, { recursive: true });
    symlinkSync(outside, path.join(dir, 'weights.pb'));
    const p = writeModel(dir, 'model.onnx', externalDataModel('weights.pb'));
    expect(() => inspectModelFile(p)).toThrow(UnsafeExternalDataError);
    expect(() => inspectModelFile(p)).toThrow(/link to .*secret\.bin/);
  });

  it('accepts a symlink that stays inside the folder', () => {
    const dir = path.join(root, 'innerlink');
    mkdirSync(path.join(dir, 'blobs'), { recursive: true });
    writeFileSync(path.join(dir, 'blobs', 'abc'), weights);
    symlinkSync(path.join(dir, 'blobs', 'abc'), path.join(dir, 'weights.pb'));
    const p = writeModel(dir, 'model.onnx', externalDataModel('weights.pb'));
    expect(inspectModelFile(p).externalFiles).toEqual([path.join(dir, 'blobs', 'abc')]);
  });

  it('reports a missing external file and a non-ONNX file as ModelLoadError', () => {
    const p = writeModel(path.join(root, 'missing'), 'model.onnx', externalDataModel('weights.pb'));
    expect(() => inspectModelFile(p)).toThrow(ModelLoadError);
    const junk = path.join(root, 'junk.onnx');
    writeFileSync(junk, Buffer.from('this is not protobuf at all'));
    expect(() => inspectModelFile(junk)).toThrow(ModelLoadError);
    expect(() => inspectModelFile(path.join(root, 'nope.onnx'))).toThrow(ModelLoadError);
  });

  it('walks a file larger than the whole-decode limit by skipping weights, still finding external data', () => {
    const dir = path.join(root, 'big');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'w.bin'), weights);
    const big = new Uint8Array(3 * 1024 * 1024);
    // The unsafe tensor comes after 3 MiB of inline weights, so only the field-by-field walk reaches it.
    const p = writeModel(dir, 'model.onnx', externalDataModel('../outside.bin', big));
    expect(() => inspectModelFile(p)).toThrow(UnsafeExternalDataError);
    const ok = idsModel('int64');
    ok.init('big', bytesTensor(big));
    const info = inspectModelFile(writeModel(dir, 'ids.onnx', ok));
    expect(info.inputs).toEqual([{ name: 'input_ids', dtype: 'int64', shape: ['batch', 4], shapeKnown: true }]);
    expect(info.outputs.map((o) => o.name)).toEqual(['last_hidden_state']);
  });
});
