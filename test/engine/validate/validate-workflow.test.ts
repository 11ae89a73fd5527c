import { describe, it, expect } from 'vitest';
import { stubEngine } from '../../fixtures/stub-nodes.js';
import { parseJson } from '../../../engine/index.js';

const base = () => ({
  '1': { class_type: 'StubConst', inputs: { value: 2 } },
  '2': { class_type: 'StubConst', inputs: { value: 3 } },
  '3': { class_type: 'StubAdd', inputs: { a: ['1', 0], b: ['2', 0] } },
  '4': { class_type: 'StubSink', inputs: { value: ['3', 0] } },
});

describe('validateWorkflow', () => {
  const engine = stubEngine();

  it('accepts a good workflow and resolves only what outputs need', () => {
    const wf = { ...base(), '9': { class_type: 'StubConst', inputs: { value: 'not a number' } } };
    const v = engine.validate(wf);
    expect(v.ok).toBe(true);
    expect(v.node_errors).toEqual({});
    expect(v.outputs).toEqual(['4']);
    expect([...v.nodes.keys()].sort()).toEqual(['1', '2', '3', '4']);
  });

  it('reports every error at once with ComfyUI types, node ids, classes and inputs', () => {
    const wf = {
      '1': { class_type: 'StubConst', inputs: { value: 5000 } },
      '2': { class_type: 'StubConst', inputs: { value: 'abc' } },
      '3': { class_type: 'StubAdd', inputs: { a: ['1', 0] } },
      '5': { class_type: 'StubSeeded', inputs: { x: ['1', 0], seed: -1, mode: 'c' } },
      '6': { class_type: 'StubText', inputs: { text: 'x', n: ['1', 0] } },
      '7': { class_type: 'StubSink', inputs: { value: ['3', 0], latent: ['5', 0] } },
      '8': { class_type: 'StubSink', inputs: { value: ['2', 0] } },
      '10': { class_type: 'StubSink', inputs: { value: ['99', 0] } },
      '11': { class_type: 'StubSink', inputs: { value: ['1', 7] } },
      '12': { class_type: 'StubSink', inputs: { value: ['1', 0, 3] } },
      '13': { class_type: 'StubSink', inputs: { value: ['6', 0] } },
    };
    const v = engine.validate(wf);
    expect(v.ok).toBe(false);
    expect(v.error?.type).toBe('prompt_outputs_failed_validation');
    const types = (id: string) => v.node_errors[id]?.errors.map((e) => e.type);
    expect(types('1')).toEqual(['value_bigger_than_max']);
    expect(types('2')).toEqual(['invalid_input_type']);
    expect(types('3')).toEqual(['required_input_missing']);
    expect(types('5')).toEqual(['value_smaller_than_min', 'value_not_in_list']);
    expect(types('6')).toEqual(['return_type_mismatch']);
    expect(types('10')).toEqual(['bad_linked_input']);
    expect(types('11')).toEqual(['bad_linked_input']);
    expect(types('12')).toEqual(['bad_linked_input']);
    expect(v.node_errors['3']!.class_type).toBe('StubAdd');
    expect(v.node_errors['3']!.errors[0]!.extra_info.input_name).toBe('b');
    expect(v.node_errors['1']!.dependent_outputs.sort()).toEqual(['11', '13', '7']);
    const mismatch = v.node_errors['6']!.errors[0]!;
    expect(mismatch.extra_info).toMatchObject({ input_name: 'n', received_type: 'FLOAT', linked_node: ['1', 0] });
  });

  it('names every unknown class at once', () => {
    const v = engine.validate({ ...base(), '5': { class_type: 'Nope', inputs: {} }, '6': { class_type: 'Nope2', inputs: {} }, '7': { class_type: 'Nope', inputs: {} } });
    expect(v.error?.type).toBe('invalid_prompt');
    expect(v.error?.message).toContain('Nope, Nope2');
    expect(Object.keys(v.node_errors).sort()).toEqual(['5', '6', '7']);
  });

  it('needs an output node', () => {
    const v = engine.validate({ '1': { class_type: 'StubConst', inputs: { value: 1 } } });
    expect(v.error?.type).toBe('prompt_no_outputs');
  });

  it('finds cycles', () => {
    const v = engine.validate({
      '1': { class_type: 'StubAdd', inputs: { a: ['2', 0], b: ['3', 0] } },
      '2': { class_type: 'StubAdd', inputs: { a: ['1', 0], b: ['3', 0] } },
      '3': { class_type: 'StubConst', inputs: { value: 1 } },
      '4': { class_type: 'StubSink', inputs: { value: ['1', 0] } },
    });
    expect(v.ok).toBe(false);
    expect(v.node_errors['1']!.errors.map((e) => e.type)).toContain('dependency_cycle');
    expect(v.node_errors['2']!.errors.map((e) => e.type)).toContain('dependency_cycle');
    expect(v.node_errors['3']).toBeUndefined();
  });

  it('rejects malformed structure with errors, not exceptions', () => {
    for (const doc of [null, 42, 'x', [], { '1': 5 }, { '1': { inputs: {} } }, { '1': { class_type: 3, inputs: [] } }]) {
      const v = engine.validate(doc);
      expect(v.ok).toBe(false);
      expect(v.error?.type).toBe('invalid_prompt');
    }
  });

  it('keeps seeds above 2^53 exact and checks them against 2^64 - 1', () => {
    const wf = parseJson(`{"1":{"class_type":"StubConst","inputs":{"value":1}},
      "2":{"class_type":"StubSeeded","inputs":{"x":["1",0],"seed":18446744073709551615,"mode":"a"}},
      "3":{"class_type":"StubSink","inputs":{"value":["1",0],"latent":["2",0]}}}`);
    const v = engine.validate(wf);
    expect(v.ok).toBe(true);
    const seed = v.nodes.get('2')!.inputs.seed!;
    expect(seed).toEqual({ kind: 'const', value: 18446744073709551615n });
    const over = parseJson(`{"1":{"class_type":"StubConst","inputs":{"value":1}},
      "2":{"class_type":"StubSeeded","inputs":{"x":["1",0],"seed":18446744073709551616,"mode":"a"}},
      "3":{"class_type":"StubSink","inputs":{"value":["1",0],"latent":["2",0]}}}`);
    expect(engine.validate(over).node_errors['2']!.errors[0]!.type).toBe('value_bigger_than_max');
  });

  it('coerces like ComfyUI: INT -> FLOAT links, numeric strings, __value__ literals', () => {
    const v = engine.validate({
      '1': { class_type: 'StubConst', inputs: { value: '2.5' } },
      '2': { class_type: 'StubSeeded', inputs: { x: ['1', 0], seed: '7', mode: { __value__: 'a' } } },
      '3': { class_type: 'StubSink', inputs: { value: ['1', 0], latent: ['2', 0] } },
    });
    expect(v.ok).toBe(true);
    expect(v.nodes.get('1')!.inputs.value).toEqual({ kind: 'const', value: 2.5 });
    expect(v.nodes.get('2')!.inputs.seed).toEqual({ kind: 'const', value: 7n });
  });

  it('survives huge and deep inputs quickly', () => {
    const wf: Record<string, unknown> = { '0': { class_type: 'StubConst', inputs: { value: 1 } } };
    const n = 100_000;
    for (let i = 1; i < n; i++) wf[String(i)] = { class_type: 'StubAdd', inputs: { a: [String(i - 1), 0], b: ['0', 0] } };
    wf.out = { class_type: 'StubSink', inputs: { value: [String(n - 1), 0] } };
    const t0 = performance.now();
    const v = engine.validate(wf);
    expect(v.ok).toBe(true);
    expect(v.nodes.size).toBe(n + 1);
    expect(performance.now() - t0).toBeLessThan(20_000); // a generous bound: this guards against hangs, not speed
    const huge = engine.validate({ '1': { class_type: 'StubText', inputs: { text: 'x'.repeat(5_000_000), n: 1 } } });
    expect(huge.error?.type).toBe('prompt_no_outputs');
  });
});
