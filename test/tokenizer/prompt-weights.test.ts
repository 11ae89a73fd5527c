import { describe, expect, it } from 'vitest';
import { parsePromptWeights } from '../../tokenizer/prompt-weights.js';

const parse = (text: string) => parsePromptWeights(text).map((s) => [s.text, s.weight]);

describe('parsePromptWeights (ComfyUI token_weights)', () => {
  it('leaves plain text at weight 1', () => {
    expect(parse('a red circle')).toEqual([['a red circle', 1]]);
    expect(parse('')).toEqual([]);
  });

  it('multiplies by 1.1 per level of parentheses', () => {
    expect(parse('a (red) circle')).toEqual([['a ', 1], ['red', 1.1], [' circle', 1]]);
    expect(parse('((red))')).toEqual([['red', 1.1 * 1.1]]);
    expect(parse('(a (b) c)')).toEqual([['a ', 1.1], ['b', 1.1 * 1.1], [' c', 1.1]]);
  });

  it('sets the weight after the last colon, replacing (not multiplying) the outer weight', () => {
    expect(parse('a (red:1.5) circle')).toEqual([['a ', 1], ['red', 1.5], [' circle', 1]]);
    expect(parse('((red:1.5))')).toEqual([['red', 1.5]]);
    expect(parse('((red:0.5) blue:1.2)')).toEqual([['red', 0.5], [' blue', 1.2]]);
    expect(parse('(a:b:1.2)')).toEqual([['a:b', 1.2]]);
    expect(parse('(red: 2 )')).toEqual([['red', 2]]);
    expect(parse('(red:1e-1)')).toEqual([['red', 0.1]]);
    expect(parse('(red:-.5)')).toEqual([['red', -0.5]]);
  });

  it('keeps a colon that is not followed by a number, or that starts the group', () => {
    expect(parse('(style:oil paint)')).toEqual([['style:oil paint', 1.1]]);
    expect(parse('(:1.2)')).toEqual([[':1.2', 1.1]]);
  });

  it('reads \\( and \\) as literal parentheses', () => {
    expect(parse('a \\(red\\) circle')).toEqual([['a (red) circle', 1]]);
    expect(parse('(\\(red\\):1.3)')).toEqual([['(red)', 1.3]]);
  });

  it('treats unbalanced parentheses as text, and drops empty groups', () => {
    expect(parse('a (red circle')).toEqual([['a ', 1], ['(red circle', 1]]);
    expect(parse('a) (b)')).toEqual([['a) (b)', 1]]);
    expect(parse('a () b')).toEqual([['a ', 1], [' b', 1]]);
  });
});
