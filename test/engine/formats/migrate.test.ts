import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../../../engine/index.js';
import { migrate, uiDocumentVersion } from '../../../engine/formats/migrate.js';
import { uiToApi } from '../../../engine/formats/ui-to-api.js';
import { WorkflowVersionError } from '../../../engine/formats/format-errors.js';
import { LATENTFLOW_UI_VERSION } from '../../../engine/formats/ui-version.js';
import type { JsonObject } from '../../../engine/formats/ui-graph.js';
import { EXAMPLES, TEST_INFO, loadExample, objectInfoFromPrompt } from './helpers.js';
import { COMFYUI_EXAMPLES, itWith } from '../../fixtures/shared-data.js';

const emptyNode = (id: number, links: (number | null)[] = []): JsonValue => ({
  id,
  type: 'Upscale',
  mode: 0,
  inputs: links.map((link) => ({ name: 'samples', type: 'LATENT', link })),
  outputs: [{ name: 'LATENT', type: 'LATENT', links: [] }],
  widgets_values: [2],
});

/** A ComfyUI schema-1 document: link objects, native reroutes, counters in `state`. */
const schema1: JsonObject = {
  id: 'abc',
  revision: 0,
  version: 1,
  state: { lastGroupId: 0, lastNodeId: 3, lastLinkId: 1, lastRerouteId: 1 },
  nodes: [emptyNode(4), emptyNode(5, [8])],
  links: [{ id: 8, origin_id: 4, origin_slot: 0, target_id: 5, target_slot: 0, type: 'LATENT', parentId: 1 }],
  reroutes: [{ id: 1, pos: [10, 10], linkIds: [8] }],
  groups: [],
  extra: { ds: { scale: 1, offset: [0, 0] } },
};

describe('UI document versions', () => {
  it('reads the latentflow marker, 0 when absent, and rejects a broken marker', () => {
    expect(uiDocumentVersion({ nodes: [] })).toBe(0);
    expect(uiDocumentVersion({ nodes: [], latentflow: { version: 1 } })).toBe(1);
    expect(() => uiDocumentVersion({ nodes: [], latentflow: { version: 'x' } })).toThrow(WorkflowVersionError);
    expect(() => uiDocumentVersion({ nodes: [], latentflow: 3 })).toThrow(WorkflowVersionError);
  });

  it('migrates an unversioned schema-1 document to version 1 (schema 0.4 plus the marker)', () => {
    const before = structuredClone(schema1);
    const doc = migrate(schema1);
    expect(schema1).toEqual(before);
    expect(doc.latentflow).toEqual({ version: LATENTFLOW_UI_VERSION });
    expect(doc.version).toBe(0.4);
    expect(doc.links).toEqual([[8, 4, 0, 5, 0, 'LATENT']]);
    expect(doc.extra).toEqual({ ds: { scale: 1, offset: [0, 0] }, linkExtensions: [{ id: 8, parentId: 1 }], reroutes: [{ id: 1, pos: [10, 10], linkIds: [8] }] });
    // stale counters in `state` are raised to the ids in use
    expect(doc.last_node_id).toBe(5);
    expect(doc.last_link_id).toBe(8);
    expect(doc.state).toBeUndefined();
    expect(uiToApi(doc, TEST_INFO)).toEqual(uiToApi(schema1, TEST_INFO));
  });

  it('leaves current documents alone and refuses newer ones', () => {
    const current = migrate(schema1);
    expect(migrate(current)).toBe(current);
    expect(() => migrate({ ...current, latentflow: { version: LATENTFLOW_UI_VERSION + 1 } })).toThrow(/newer|reads up to/);
  });

  itWith(COMFYUI_EXAMPLES, 'keeps the example workflows converting the same after migration', () => {
    for (const file of EXAMPLES) {
      const ex = loadExample(file);
      const info = objectInfoFromPrompt(ex.prompt);
      const doc = ex.workflow as JsonObject;
      const migrated = migrate(doc);
      expect(migrated.last_node_id).toBe(doc.last_node_id);
      expect(uiToApi(migrated, info)).toEqual(uiToApi(doc, info));
    }
  });
});
