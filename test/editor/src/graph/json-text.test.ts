import { describe, expect, it } from 'vitest';
import { stringifyExact } from '../../../../editor/src/graph/json-text.js';
import { parseJson } from '../../../../engine/json.js';

describe('stringifyExact', () => {
  it('writes bigints as exact integers and leaves strings alone', () => {
    const v = { seed: 2n ** 64n - 1n, neg: -(2n ** 60n), list: [1n, 'bigint:3', 'x\u0000y'], n: 1.5 };
    const text = stringifyExact(v);
    expect(text).toBe('{"seed":18446744073709551615,"neg":-1152921504606846976,"list":[1,"bigint:3","x\\u0000y"],"n":1.5}');
    expect(parseJson(text)).toEqual({ seed: 2n ** 64n - 1n, neg: -(2n ** 60n), list: [1, 'bigint:3', 'x\u0000y'], n: 1.5 });
  });
});
