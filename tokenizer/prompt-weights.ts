/**
 * ComfyUI's prompt emphasis syntax (comfy/sd1_clip.py: escape_important, parse_parentheses,
 * token_weights): `(text)` multiplies the weight by 1.1, `(text:1.3)` sets it, nesting multiplies,
 * and `\(` `\)` are literal parentheses.
 */

/** A run of prompt text and the weight its tokens get. */
export interface WeightedSegment {
  readonly text: string;
  readonly weight: number;
}

// NOTE: ComfyUI swaps escaped parentheses for these two-character markers before parsing.
const ESCAPED_CLOSE = '\u0000\u0001';
const ESCAPED_OPEN = '\u0000\u0002';

function escapeImportant(text: string): string {
  return text.replaceAll('\\)', ESCAPED_CLOSE).replaceAll('\\(', ESCAPED_OPEN);
}

function unescapeImportant(text: string): string {
  return text.replaceAll(ESCAPED_CLOSE, ')').replaceAll(ESCAPED_OPEN, '(');
}

/** Splits at top-level parentheses: "a (b (c)) d" -> ["a ", "(b (c))", " d"]. Unbalanced ")" just lowers the level. */
function parseParentheses(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let level = 0;
  for (const ch of text) {
    if (ch === '(') {
      if (level === 0) {
        if (current) out.push(current);
        current = '(';
      } else {
        current += ch;
      }
      level++;
    } else if (ch === ')') {
      level--;
      if (level === 0) {
        out.push(current + ')');
        current = '';
      } else {
        current += ch;
      }
    } else {
      current += ch;
    }
  }
  if (current) out.push(current);
  return out;
}

const PY_FLOAT = /^[+-]?(?:(?:\d(?:_?\d)*)?\.?\d(?:_?\d)*(?:[eE][+-]?\d(?:_?\d)*)?|\d(?:_?\d)*\.|inf|infinity|nan)$/i;

/** Python's float(str), which ComfyUI applies to the text after the last ':'; undefined where Python raises. */
function pythonFloat(text: string): number | undefined {
  const t = text.trim();
  if (!PY_FLOAT.test(t)) return undefined;
  const lower = t.toLowerCase().replaceAll('_', '');
  if (lower.endsWith('nan')) return Number.NaN;
  if (lower.endsWith('inf') || lower.endsWith('infinity')) return lower.startsWith('-') ? -Infinity : Infinity;
  return Number(lower);
}

function tokenWeights(text: string, current: number): WeightedSegment[] {
  const out: WeightedSegment[] = [];
  for (let part of parseParentheses(text)) {
    if (part.length >= 2 && part.startsWith('(') && part.endsWith(')')) {
      part = part.slice(1, -1);
      let weight = current * 1.1;
      const colon = part.lastIndexOf(':');
      if (colon > 0) {
        const explicit = pythonFloat(part.slice(colon + 1));
        if (explicit !== undefined) {
          weight = explicit;
          part = part.slice(0, colon);
        }
      }
      out.push(...tokenWeights(part, weight));
    } else {
      out.push({ text: part, weight: current });
    }
  }
  return out;
}

/** The prompt's segments with their weights, escapes resolved; text outside any parentheses has weight 1. */
export function parsePromptWeights(text: string): WeightedSegment[] {
  return tokenWeights(escapeImportant(text), 1).map((s) => ({ text: unescapeImportant(s.text), weight: s.weight }));
}
