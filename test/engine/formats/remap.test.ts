import { describe, expect, it } from 'vitest';
import type { ApiWorkflow } from '../../../engine/index.js';
import { inputNamed, parseValueMap, remapApiInputs, remapUiWidgets, uploadInputs, ValueMapError } from '../../../engine/formats/remap.js';
import { apiToUi } from '../../../engine/formats/api-to-ui.js';
import { uiToApi } from '../../../engine/formats/ui-to-api.js';
import { TEST_INFO } from './helpers.js';

const API: ApiWorkflow = {
  '1': { class_type: 'Loader', inputs: { ckpt_name: 'a.safetensors' }, _meta: { title: 'M' } },
  '2': { class_type: 'Image', inputs: { image: 'x.png', note: 'a.safetensors' }, _meta: { title: 'I' } },
};

describe('value remapping', () => {
  it('parses old=new pairs, splitting at the first =', () => {
    expect(parseValueMap(['a=b', 'c=d=e'])).toEqual(new Map([['a', 'b'], ['c', 'd=e']]));
    for (const bad of ['a', '=b', 'a=']) expect(() => parseValueMap([bad])).toThrow(ValueMapError);
  });

  it('remaps only the selected inputs of an API workflow, without touching the original', () => {
    const { workflow, changed } = remapApiInputs(API, TEST_INFO, inputNamed('ckpt_name'), new Map([['a.safetensors', 'toy']]));
    expect(workflow['1']!.inputs.ckpt_name).toBe('toy');
    expect(workflow['2']!.inputs.note).toBe('a.safetensors');
    expect(API['1']!.inputs.ckpt_name).toBe('a.safetensors');
    expect(changed).toEqual([{ nodeId: '1', input: 'ckpt_name', from: 'a.safetensors', to: 'toy' }]);
    const images = remapApiInputs(API, TEST_INFO, uploadInputs, new Map([['x.png', 'local.png']]));
    expect(images.workflow['2']!.inputs.image).toBe('local.png');
  });

  it('remaps widgets_values in a UI document in place of the same values', () => {
    const ui = apiToUi(API, TEST_INFO);
    const { document, changed } = remapUiWidgets(ui, TEST_INFO, uploadInputs, new Map([['x.png', 'y.png']]));
    expect(changed).toHaveLength(1);
    expect(uiToApi(document, TEST_INFO)['2']!.inputs).toEqual({ image: 'y.png', note: 'a.safetensors' });
    expect(uiToApi(ui, TEST_INFO)['2']!.inputs.image).toBe('x.png');
  });
});
