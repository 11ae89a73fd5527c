import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layering of docs/architecture.md, checked on the sources: which top-level folder may import which,
 * node families independent of each other, and no import circle anywhere (type-only imports included).
 */
const ROOT = path.resolve(import.meta.dirname, '../..');

/** Each source folder and the folders it may import (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  engine: [],
  tokenizer: [],
  runtime: ['engine'],
  sampling: ['engine', 'runtime'],
  imaging: ['engine', 'runtime'],
  sockets: ['engine', 'runtime', 'sampling', 'tokenizer', 'imaging'],
  nodes: ['engine', 'runtime', 'sampling', 'tokenizer', 'imaging', 'sockets'],
  'model-hub': ['engine', 'runtime', 'tokenizer'],
  toyworld: ['engine', 'runtime', 'sampling', 'tokenizer', 'imaging'],
  host: ['engine', 'runtime', 'sampling', 'tokenizer', 'imaging', 'sockets', 'nodes'],
  scaleout: ['engine', 'runtime', 'host'],
  server: ['engine', 'runtime', 'imaging', 'host', 'scaleout'],
  cli: ['engine', 'runtime', 'sampling', 'tokenizer', 'imaging', 'sockets', 'nodes', 'model-hub', 'toyworld', 'host', 'scaleout', 'server'],
  'editor/src': ['engine'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'dist' ? [] : sourceFiles(full);
    return /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^']+)'|import\(\s*'(\.{1,2}\/[^']+)'\s*\)|(?:^|\n)\s*import\s+'(\.{1,2}\/[^']+)'/g;

function resolve(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec);
  for (const c of [base.replace(/\.js$/, '.ts'), base.replace(/\.js$/, '.tsx'), base, `${base}.ts`, path.join(base, 'index.ts')]) {
    if (existsSync(c) && c.match(/\.tsx?$/)) return c;
  }
  return undefined;
}

function folderOf(file: string): string | undefined {
  const rel = path.relative(ROOT, file).split(path.sep).join('/');
  return Object.keys(ALLOWED).find((f) => rel === f || rel.startsWith(`${f}/`));
}

/** A node family: nodes/<family>/..., or a one-file family nodes/<name>.ts. */
function familyOf(file: string): string | undefined {
  const rel = path.relative(path.join(ROOT, 'nodes'), file).split(path.sep);
  return rel[0] === '..' ? undefined : rel[0]!.replace(/\.ts$/, '');
}

const files = Object.keys(ALLOWED).flatMap((f) => (existsSync(path.join(ROOT, f)) ? sourceFiles(path.join(ROOT, f)) : []));
const edges = new Map<string, string[]>();
for (const f of files) {
  const src = readFileSync(f, 'utf8');
  const deps: string[] = [];
  for (const m of src.matchAll(IMPORT)) {
    const target = resolve(f, (m[1] ?? m[2] ?? m[3])!);
    if (target) deps.push(target);
  }
  edges.set(f, deps);
}
const rel = (f: string) => path.relative(ROOT, f).split(path.sep).join('/');

describe('import graph', () => {
  it('reads the sources (the checks below are not vacuous)', () => {
    expect(files.length).toBeGreaterThan(200);
    expect([...edges.values()].flat().length).toBeGreaterThan(500);
  });

  it('imports only point down the layers', () => {
    const bad: string[] = [];
    for (const [f, deps] of edges) {
      const from = folderOf(f)!;
      for (const d of deps) {
        const to = folderOf(d);
        if (to === undefined) bad.push(`${rel(f)} -> ${rel(d)} (outside the source folders)`);
        else if (to !== from && !ALLOWED[from]!.includes(to)) bad.push(`${rel(f)} -> ${rel(d)}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('node families are independent of each other', () => {
    const bad: string[] = [];
    for (const [f, deps] of edges) {
      const fam = familyOf(f);
      if (!fam) continue;
      for (const d of deps) {
        const other = familyOf(d);
        if (other && other !== fam) bad.push(`${rel(f)} -> ${rel(d)}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('has no import circle', () => {
    const state = new Map<string, 1 | 2>();
    const cycles: string[] = [];
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, 1);
      stack.push(f);
      for (const d of edges.get(f) ?? []) {
        const s = state.get(d);
        if (s === 1) cycles.push([...stack.slice(stack.indexOf(d)), d].map(rel).join(' -> '));
        else if (s === undefined && edges.has(d)) visit(d);
      }
      stack.pop();
      state.set(f, 2);
    };
    for (const f of edges.keys()) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('one module imports onnxruntime-node', () => {
    const importers = files.filter((f) => /from\s+'onnxruntime-node'|import\(\s*'onnxruntime-node'/.test(readFileSync(f, 'utf8'))).map(rel);
    expect(importers).toEqual(['runtime/onnx-session.ts']);
  });
});
