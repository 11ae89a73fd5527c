import { describe, expect, it } from 'vitest';
import { JsonTextCache, jsonObjectText } from '../../server/json-text-cache.js';

describe('JsonTextCache', () => {
  it('makes each text once, keeps big integers exact, and drops the least recently used beyond its byte budget', () => {
    const c = new JsonTextCache(45);
    let made = 0;
    const make = (v: unknown) => () => (made++, v);
    expect(c.get('a', make({ seed: 18446744073709551615n }))).toBe('{"seed":18446744073709551615}');
    expect(c.get('a', make('other'))).toBe('{"seed":18446744073709551615}');
    expect(made).toBe(1);
    c.get('b', make('bbbbbbbb'));
    c.get('a', make('ignored'));
    // 29 + 10 + 12 bytes > 45: 'b' is the least recently used and goes.
    c.get('c', make('cccccccccc'));
    expect(c.get('a', make('x'))).toBe('{"seed":18446744073709551615}');
    expect(c.get('b', make('rebuilt'))).toBe('"rebuilt"');
    expect(c.get('gone', () => undefined)).toBeUndefined();
    expect(jsonObjectText([['k"1', '1'], ['k2', '[2]']])).toBe('{"k\\"1":1,"k2":[2]}');
    expect(JSON.parse(jsonObjectText([]))).toEqual({});
  });
});
