/**
 * `models verify`: opens every session of an installed model through the model pool (the same worker
 * sessions a run uses), reports each declared signature and whether latentflow can drive it.
 */
import path from 'node:path';
import { describeMeta, type IoMeta } from '../runtime/io-meta.js';
import { inspectModelFile } from '../runtime/model-file.js';
import { findInstalled, scanFolder } from './components.js';
import { checkComponent, type ComponentRole, type Signature } from './drivability.js';
import { describeFlavour } from './flavour.js';
import type { ModelKind } from './kinds.js';

/** What opens sessions: the ModelPool (`MODEL_POOL`) satisfies it. */
export interface SignatureSource {
  session(modelPath: string): Promise<Signature>;
}

export interface ComponentReport {
  readonly role: ComponentRole;
  /** Path relative to the model folder. */
  readonly file: string;
  readonly inputs: readonly IoMeta[];
  readonly outputs: readonly IoMeta[];
  readonly ok: boolean;
  readonly problems: readonly string[];
  readonly notes: readonly string[];
}

export interface VerifyReport {
  readonly kind: ModelKind;
  readonly name: string;
  readonly dir: string;
  readonly flavour?: string;
  readonly ok: boolean;
  /** Folder-level problems (missing parts) and notes. */
  readonly problems: readonly string[];
  readonly notes: readonly string[];
  readonly components: readonly ComponentReport[];
}

export interface VerifyOptions {
  /** A note on where the component's nodes run (e.g. which fall back to the CPU on the chosen device). */
  placement?: (file: string) => Promise<string | undefined>;
}

/**
 * What `models verify` says about random numbers drawn in the graph: zeroed RandomNormal(Like) nodes (a diffusers
 * vae_encoder's latent_dist.sample()) run as the mean, as ComfyUI encodes; other random operators stay random.
 */
export function randomNodeNotes(file: string): string[] {
  const nodes = inspectModelFile(file).randomNodes;
  const zeroed = nodes.filter((n) => n.zeroed);
  const kept = nodes.filter((n) => !n.zeroed);
  const list = (ns: typeof nodes) => ns.map((n) => `${n.opType}${n.name ? ` '${n.name}'` : ''}`).join(', ');
  const notes: string[] = [];
  if (zeroed.length > 0) {
    notes.push(`samples noise in the graph (${list(zeroed)}); latentflow runs it as zeros, so the output is the distribution's mean (VAEEncode: the latent mean, as ComfyUI) and repeatable`);
  }
  if (kept.length > 0) notes.push(`draws random numbers in the graph (${list(kept)}): its outputs differ from run to run`);
  return notes;
}

async function verifyFolder(kind: ModelKind, name: string, dir: string, source: SignatureSource, opts: VerifyOptions): Promise<VerifyReport> {
  const scan = scanFolder(kind, dir);
  const components: ComponentReport[] = [];
  const sigs = new Map<ComponentRole, Signature>();
  for (const c of scan.components) {
    const file = path.relative(dir, c.file);
    let sig: Signature;
    try {
      const s = await source.session(c.file);
      sig = { inputs: s.inputs, outputs: s.outputs };
    } catch (e) {
      const msg = `cannot open the session: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
      components.push({ role: c.role, file, inputs: [], outputs: [], ok: false, problems: [msg], notes: [] });
      continue;
    }
    sigs.set(c.role, sig);
    const d = checkComponent(c.role, sig, { labels: scan.labels, sdxl: scan.components.some((k) => k.role === 'text_encoder_2') });
    const placed = await opts.placement?.(c.file).catch((e: unknown) => `node placement unknown: ${e instanceof Error ? e.message : String(e)}`);
    const notes = [...d.notes, ...randomNodeNotes(c.file), ...(placed ? [placed] : [])];
    components.push({ role: c.role, file, inputs: sig.inputs, outputs: sig.outputs, ok: d.ok, problems: d.problems, notes });
  }
  const ok = scan.problems.length === 0 && components.length > 0 && components.every((c) => c.ok);
  return {
    kind, name, dir, ok,
    flavour: sigs.size > 0 ? describeFlavour(kind, sigs, dir) : undefined,
    problems: scan.problems, notes: scan.notes, components,
  };
}

/** Verifies every installed model matching `name` (or `<kind>/<name>`); throws ModelNotFoundError when none does. */
export async function verifyModel(modelsDir: string, name: string, source: SignatureSource, opts: VerifyOptions = {}): Promise<VerifyReport[]> {
  const out: VerifyReport[] = [];
  for (const ref of findInstalled(modelsDir, name)) out.push(await verifyFolder(ref.kind, ref.name, ref.dir, source, opts));
  return out;
}

/** Plain-text rendering of a report (the CLI prints it). */
export function formatVerifyReport(r: VerifyReport): string {
  const lines = [`${r.kind} ${r.name}: ${r.ok ? 'OK, latentflow can drive it' : 'NOT USABLE'}${r.flavour ? ` [${r.flavour}]` : ''}`, `  ${r.dir}`];
  for (const p of r.problems) lines.push(`  problem: ${p}`);
  for (const n of r.notes) lines.push(`  note: ${n}`);
  for (const c of r.components) {
    lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.role} (${c.file})`);
    for (const m of c.inputs) lines.push(`         in  ${describeMeta(m)}`);
    for (const m of c.outputs) lines.push(`         out ${describeMeta(m)}`);
    for (const p of c.problems) lines.push(`         problem: ${p}`);
    for (const n of c.notes) lines.push(`         note: ${n}`);
  }
  return lines.join('\n');
}
