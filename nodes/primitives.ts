import { defineNode, INT, FLOAT, STRING, BOOLEAN } from '../engine/index.js';
import { INT_OUT, FLOAT_OUT, STRING_OUT, BOOLEAN_OUT } from '../sockets/index.js';

/** Constant sources (ComfyUI's comfy_extras/nodes_primitive.py). */
export const PrimitiveInt = defineNode({
  type: 'PrimitiveInt',
  displayName: 'Int',
  category: 'utils/primitive',
  version: '1.0.0',
  inputs: { value: INT({ default: 0, min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }) },
  outputs: { INT: INT_OUT },
  run: (_ctx, { value }) => ({ INT: value }),
});

export const PrimitiveFloat = defineNode({
  type: 'PrimitiveFloat',
  displayName: 'Float',
  category: 'utils/primitive',
  version: '1.0.0',
  inputs: { value: FLOAT({ default: 0, min: -Number.MAX_VALUE, max: Number.MAX_VALUE }) },
  outputs: { FLOAT: FLOAT_OUT },
  run: (_ctx, { value }) => ({ FLOAT: value }),
});

export const PrimitiveString = defineNode({
  type: 'PrimitiveString',
  displayName: 'String',
  category: 'utils/primitive',
  version: '1.0.0',
  inputs: { value: STRING() },
  outputs: { STRING: STRING_OUT },
  run: (_ctx, { value }) => ({ STRING: value }),
});

export const PrimitiveStringMultiline = defineNode({
  type: 'PrimitiveStringMultiline',
  displayName: 'String (Multiline)',
  category: 'utils/primitive',
  version: '1.0.0',
  inputs: { value: STRING({ multiline: true }) },
  outputs: { STRING: STRING_OUT },
  run: (_ctx, { value }) => ({ STRING: value }),
});

export const PrimitiveBoolean = defineNode({
  type: 'PrimitiveBoolean',
  displayName: 'Boolean',
  category: 'utils/primitive',
  version: '1.0.0',
  inputs: { value: BOOLEAN() },
  outputs: { BOOLEAN: BOOLEAN_OUT },
  run: (_ctx, { value }) => ({ BOOLEAN: value }),
});

export const PRIMITIVE_NODES = [PrimitiveInt, PrimitiveFloat, PrimitiveString, PrimitiveStringMultiline, PrimitiveBoolean];
