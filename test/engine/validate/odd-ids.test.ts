import { describe, expect, it } from 'vitest';
import { stubEngine } from '../../fixtures/stub-nodes.js';
import { parseJson } from '../../../engine/index.js';

/** Node ids are client strings: Object.prototype's names must be ordinary ids (parsed as the server parses bodies). */
const ODD = ['constructor', 'toString', 'hasOwnProperty', 'prototype', 'valueOf', '🙂 ünïcode', 'x'.repeat(5000)];

describe('validateWorkflow with node ids named like Object.prototype members', () => {
  const engine = stubEngine();

  it('reports errors of a node with any id, in its own node_errors entry', () => {
    for (const id of ODD) {
      const wf = parseJson(JSON.stringify({ [id]: { class_type: 'StubConst', inputs: { value: 'not a number' } }, out: { class_type: 'StubSink', inputs: { value: [id, 0] } } }));
      const v = engine.validate(wf);
      expect(v.ok, id).toBe(false);
      expect(Object.keys(v.node_errors), id).toEqual([id]);
      expect(Object.hasOwn(v.node_errors, id), id).toBe(true);
      expect(Object.getPrototypeOf(v.node_errors)).toBe(Object.prototype);
    }
  });

  it('runs a valid workflow whatever the ids', async () => {
    for (const id of ODD) {
      const wf = parseJson(JSON.stringify({ [id]: { class_type: 'StubConst', inputs: { value: 2 } }, out: { class_type: 'StubSink', inputs: { value: [id, 0] } } }));
      const v = engine.validate(wf);
      expect(v.ok, id).toBe(true);
      expect([...v.nodes.keys()].sort(), id).toEqual([id, 'out'].sort());
      expect((await engine.run(wf)).status, id).toBe('success');
    }
  });

  it("refuses the id '__proto__' with a validation error in ComfyUI's shape, never a crash", () => {
    for (const text of [
      '{"__proto__": {"class_type": "StubConst", "inputs": {"value": "bad"}}, "4": {"class_type": "StubSink", "inputs": {"value": ["__proto__", 0]}}}',
      '{"1": {"class_type": "StubConst", "inputs": {"value": 2}}, "__proto__": {"class_type": "StubSink", "inputs": {"value": ["1", 0]}}}',
      '{"__proto__": {"class_type": "Nope", "inputs": {}}}',
    ]) {
      const v = engine.validate(parseJson(text));
      expect(v.ok).toBe(false);
      expect(v.error).toMatchObject({ type: 'invalid_prompt', message: expect.stringMatching(/__proto__.*reserved/) });
      expect(Object.keys(v.node_errors)).toEqual(['__proto__']);
    }
  });

  it('treats a link to an id that only Object.prototype has as a missing node', () => {
    for (const id of ['constructor', 'toString', '__proto__', '__defineGetter__']) {
      const v = engine.validate({ out: { class_type: 'StubSink', inputs: { value: [id, 0] } } });
      expect(v.ok, id).toBe(false);
      expect(v.node_errors.out?.errors[0]?.type, id).toBe('bad_linked_input');
    }
  });

  it('reports unknown classes and malformed nodes under odd ids', () => {
    const unknown = engine.validate(parseJson('{"constructor": {"class_type": "Nope", "inputs": {}}}'));
    expect(unknown.error?.message).toMatch(/Nope/);
    expect(Object.keys(unknown.node_errors)).toEqual(['constructor']);
    const malformed = engine.validate(parseJson('{"__proto__": {"class_type": 5, "inputs": {}}}'));
    expect(malformed.ok).toBe(false);
    expect(Object.keys(malformed.node_errors)).toEqual(['__proto__']);
  });
});
