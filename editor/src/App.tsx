import { useEffect, useState, type ReactElement } from 'react';
import { ReactFlowProvider } from '@xyflow/react';
import { parseJson } from '../../engine/json.js';
import { ApiRequestError, fetchObjectInfo } from './api/client.js';
import { storeToken, storedToken } from './api/auth.js';
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

/** Asked when the server answers 401: it was started with --token and this browser has none (or a wrong one). */
function TokenForm({ hadToken }: { hadToken: boolean }): ReactElement {
  const [value, setValue] = useState('');
  return (
    <form
      className="lf-fatal"
      data-testid="token-form"
      onSubmit={(e) => {
        e.preventDefault();
        storeToken(value.trim());
        location.reload();
      }}
    >
      <p>{hadToken ? 'The server refused the stored access token.' : 'This latentflow server needs its access token (latentflow serve --token).'}</p>
      <input data-testid="token-input" type="password" autoFocus value={value} onChange={(e) => setValue(e.target.value)} placeholder="access token" />
      <button type="submit">Connect</button>
    </form>
  );
}

export function App(): ReactElement {
  const [ready, setReady] = useState<Ready>();
  const [error, setError] = useState<string>();
  const [needsToken, setNeedsToken] = useState(false);
  useEffect(() => {
    fetchObjectInfo()
      .then((info) => {
        const specs = readNodeSpecs(info);
        const { graph, notice } = firstGraph(info, specs);
        setReady({ info, specs, initial: graph, notice });
      })
      .catch((e: unknown) => {
        if (e instanceof ApiRequestError && e.status === 401) setNeedsToken(true);
        else setError(e instanceof Error ? e.message : String(e));
      });
  }, []);
  if (needsToken) return <TokenForm hadToken={storedToken() !== undefined} />;
  if (error) return <div className="lf-fatal" data-testid="fatal">cannot reach the latentflow server: {error}</div>;
  if (!ready) return <div className="lf-fatal">loading node types…</div>;
  return (
    <ReactFlowProvider>
      <Editor info={ready.info} specs={ready.specs} initial={ready.initial} notice={ready.notice} />
    </ReactFlowProvider>
  );
}
