import type { JsonValue } from '../json.js';
import { WorkflowVersionError } from './format-errors.js';
import { idOf, isObject, type JsonObject } from './ui-graph.js';
import { LATENTFLOW_UI_VERSION } from './ui-version.js';

/** The latentflow version of a UI document: its `latentflow.version` marker, 0 when unmarked. */
export function uiDocumentVersion(doc: JsonObject): number {
  const marker = doc.latentflow;
  if (marker === undefined) return 0;
  const v = isObject(marker) ? marker.version : undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new WorkflowVersionError(`'latentflow.version' must be a positive integer, got ${JSON.stringify(isObject(marker) ? (v ?? null) : typeof marker)}`);
  }
  return v;
}

function maxNumericId(values: Iterable<JsonValue | undefined>): number {
  let max = 0;
  for (const v of values) {
    const id = idOf(v);
    const n = id === undefined ? NaN : Number(id);
    if (Number.isSafeInteger(n) && n > max) max = n;
  }
  return max;
}

function counter(v: JsonValue | undefined): number {
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : 0;
}

/**
 * 0 -> 1: an unmarked document (ComfyUI's schema 0.4 or 1) becomes schema 0.4 with the marker.
 * Schema-1 link objects turn into 0.4 link arrays, their native-reroute parents and the reroutes
 * go to `extra.linkExtensions` / `extra.reroutes` (where ComfyUI keeps them in 0.4), and
 * `last_node_id`/`last_link_id` are raised to the largest ids present, since stale counters make
 * an editor hand out ids that already exist.
 */
function v0ToV1(doc: JsonObject): JsonObject {
  const out: JsonObject = { ...doc };
  const extra: JsonObject = isObject(doc.extra) ? { ...doc.extra } : {};
  const rawLinks = Array.isArray(doc.links) ? doc.links : [];
  const extensions: JsonValue[] = [];
  const links: JsonValue[] = rawLinks.map((l) => {
    if (!isObject(l)) return l;
    if (l.parentId !== undefined) extensions.push({ id: l.id ?? null, parentId: l.parentId });
    return [l.id ?? null, l.origin_id ?? null, l.origin_slot ?? null, l.target_id ?? null, l.target_slot ?? null, l.type ?? '*'];
  });
  if (extensions.length) extra.linkExtensions = extensions;
  if (Array.isArray(doc.reroutes)) extra.reroutes = doc.reroutes;
  const state = isObject(doc.state) ? doc.state : {};
  const nodes = Array.isArray(doc.nodes) ? doc.nodes : [];
  out.last_node_id = Math.max(counter(doc.last_node_id), counter(state.lastNodeId), maxNumericId(nodes.map((n) => (isObject(n) ? n.id : undefined))));
  out.last_link_id = Math.max(
    counter(doc.last_link_id),
    counter(state.lastLinkId),
    maxNumericId(links.map((l) => (Array.isArray(l) ? l[0] : undefined))),
  );
  out.links = links;
  out.extra = extra;
  out.version = 0.4;
  delete out.state;
  delete out.reroutes;
  out.latentflow = { version: 1 };
  return out;
}

/** STEPS[n] turns a version-n document into version n + 1. */
const STEPS: readonly ((doc: JsonObject) => JsonObject)[] = [v0ToV1];

/**
 * Brings a UI document (latentflow's, or ComfyUI's unmarked one) to LATENTFLOW_UI_VERSION by
 * running each step in turn. Never mutates `doc`. Throws WorkflowVersionError for documents
 * from a newer latentflow.
 */
export function migrate(doc: JsonObject): JsonObject {
  let version = uiDocumentVersion(doc);
  if (version > LATENTFLOW_UI_VERSION) {
    throw new WorkflowVersionError(`this UI document is version ${version}; this latentflow reads up to version ${LATENTFLOW_UI_VERSION}`);
  }
  let out = doc;
  while (version < LATENTFLOW_UI_VERSION) {
    out = STEPS[version]!(out);
    version += 1;
    out = { ...out, latentflow: { ...(isObject(out.latentflow) ? out.latentflow : {}), version } };
  }
  return out;
}
