import { apiToUi, type UiDocument } from '../../../engine/formats/api-to-ui.js';
import { widgetPositions } from '../../../engine/formats/widget-layout.js';
import type { NodeSpec, ObjectInfo } from './spec.js';
import { toApi } from './to-api.js';
import type { Graph } from './types.js';

export interface Viewport {
  readonly x: number;
  readonly y: number;
  readonly zoom: number;
}

/**
 * The editor graph as latentflow's versioned UI document (ComfyUI schema 0.4 plus
 * `latentflow.version`), built by the engine's api-to-ui with the editor's positions, titles and
 * seed controls laid over it. This is what Save writes and what goes into `extra_pnginfo.workflow`.
 */
export function toUiDocument(graph: Graph, specs: ReadonlyMap<string, NodeSpec>, info: ObjectInfo, viewport?: Viewport): UiDocument {
  const doc = apiToUi(toApi(graph, specs), info);
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  for (const uiNode of doc.nodes) {
    const node = byId.get(String(uiNode.id));
    if (!node) continue;
    uiNode.pos = [Math.round(node.position.x), Math.round(node.position.y)];
    const w = node.measured?.width ?? node.width;
    const h = node.measured?.height ?? node.height;
    if (w && h) uiNode.size = [Math.round(w), Math.round(h)];
    if (node.data.title) uiNode.title = node.data.title;
    const entry = info[node.data.classType];
    if (!entry) continue;
    widgetPositions(entry).forEach((p, i) => {
      if (p.role === 'control' && node.data.controls[p.input]) uiNode.widgets_values[i] = node.data.controls[p.input]!;
    });
  }
  if (viewport && viewport.zoom > 0) {
    doc.extra = { ...doc.extra, ds: { scale: viewport.zoom, offset: [viewport.x / viewport.zoom, viewport.y / viewport.zoom] } };
  }
  return doc;
}
