import { useEffect, useState, type ReactElement } from 'react';
import { ReactFlowProvider } from '@xyflow/react';
import { parseJson } from '../../engine/json.js';
import { fetchObjectInfo } from './api/client.js';
import { buildDefaultGraph } from './graph/default-workflow.js';
import { importDocument } from './graph/import.js';
import { readNodeSpecs, type NodeSpec, type ObjectInfo } from './graph/spec.js';
import type { Graph } from './graph/types.js';
import { AUTOSAVE_KEY } from './ui/autosave.js';
import { Editor } from './ui/Editor.js';

// The shipped text-to-image workflow, bundled at build time when the repo has it.
const BUNDLED = import.meta.glob<string>('../../workflows/txt2img.json', { eager: true, query: '?raw', import: 'default' });

interface Ready {
  readonly info: ObjectInfo;
  readonly specs: ReadonlyMap<string, NodeSpec>;
  readonly initial: Graph;
  readonly notice?: string;
}

/** First open: the autosaved graph, else workflows/txt2img.json, else the toyworld graph built from object_info. */
function firstGraph(info: ObjectInfo, specs: ReadonlyMap<string, NodeSpec>): { graph: Graph; notice?: string } {
  const saved = localStorage.getItem(AUTOSAVE_KEY);
  const problems: string[] = [];
  const sources: [string, string | null | undefined][] = [
    ['autosave', saved],
    ['workflows/txt2img.json', Object.values(BUNDLED)[0]],
  ];
  for (const [name, text] of sources) {
    if (!text) continue;
    try {
      const g = importDocument(parseJson(text), info, specs).graph;
      if (g.nodes.length > 0) return { graph: g };
    } catch (e) {
      problems.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const built = buildDefaultGraph(specs);
  if (built) return { graph: built, notice: problems.length ? problems.join('; ') : undefined };
  problems.push('the server does not register the text-to-image nodes; starting empty');
  return { graph: { nodes: [], edges: [] }, notice: problems.join('; ') };
}

export function App(): ReactElement {
  const [ready, setReady] = useState<Ready>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    fetchObjectInfo()
      .then((info) => {
        const specs = readNodeSpecs(info);
        const { graph, notice } = firstGraph(info, specs);
        setReady({ info, specs, initial: graph, notice });
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, []);
  if (error) return <div className="lf-fatal" data-testid="fatal">cannot reach the latentflow server: {error}</div>;
  if (!ready) return <div className="lf-fatal">loading node types…</div>;
  return (
    <ReactFlowProvider>
      <Editor info={ready.info} specs={ready.specs} initial={ready.initial} notice={ready.notice} />
    </ReactFlowProvider>
  );
}
