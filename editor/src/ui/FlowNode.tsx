import { memo, useCallback, useSyncExternalStore, type ReactElement } from 'react';
import { Handle, Position, useNodeConnections, type NodeProps } from '@xyflow/react';
import { viewUrl } from '../api/client.js';
import type { NodeExec } from '../exec/state.js';
import { socketColor } from '../graph/socket-colors.js';
import { hasWidget } from '../graph/spec.js';
import { inHandle, inputNameOf, outHandle, type LfNode } from '../graph/types.js';
import { useEditor } from './context.js';
import { Widget } from './Widget.js';
import { shapeLabel } from '../graph/shape-label.js';

function statusText(st: NodeExec): string {
  switch (st.status) {
    case 'running':
      return st.max ? `running ${st.value ?? 0}/${st.max}` : 'running';
    case 'done':
      return st.durationMs !== undefined ? `done ${(st.durationMs / 1000).toFixed(2)} s` : 'done';
    case 'cached':
      return 'cached';
    case 'pending':
      return 'pending';
    case 'error':
      return 'error';
    case 'interrupted':
      return 'interrupted';
    default:
      return '';
  }
}

function FlowNodeView({ id, data, selected, width }: NodeProps<LfNode>): ReactElement {
  const { specs, exec, setValue, setControl, upload } = useEditor();
  const spec = specs.get(data.classType);
  const st = useSyncExternalStore(
    useCallback((cb: () => void) => exec.subscribeNode(id, cb), [exec, id]),
    () => exec.node(id),
  );
  const connections = useNodeConnections({ handleType: 'target' });
  const linked = new Set(connections.map((c) => inputNameOf(c.targetHandle)));
  const title = data.title ?? spec?.displayName ?? data.classType;
  const issues = st.issues ?? {};
  const sockets = spec?.inputs.filter((d) => !hasWidget(d)) ?? [];
  const widgets = spec?.inputs.filter(hasWidget) ?? [];
  const status = statusText(st);
  // Once queued, the live status says more than the mark.
  const stale = st.stale === true && st.status !== 'pending' && st.status !== 'running';
  const cls = ['lf-node', st.status ? `lf-${st.status}` : '', stale ? 'lf-is-stale' : '', width !== undefined ? 'lf-sized' : '', selected ? 'lf-selected' : '', Object.keys(issues).length ? 'lf-invalid' : ''].join(' ');
  return (
    <div className={cls} data-testid={`node-${id}`} data-type={data.classType} data-status={st.status ?? 'idle'} data-stale={stale ? 'true' : undefined}>
      <div className="lf-title">
        <span className="lf-title-text">{title}</span>
        {stale && (
          <span className="lf-stale" data-testid={`node-stale-${id}`} title="changed since the last run: queuing now runs this node again">
            stale
          </span>
        )}
        {status && (
          <span className="lf-status" data-testid={`node-status-${id}`}>
            {status}
          </span>
        )}
      </div>
      {st.status === 'running' && st.max ? (
        <div className="lf-progress" data-testid={`node-progress-${id}`}>
          <div style={{ width: `${(100 * (st.value ?? 0)) / st.max}%` }} />
        </div>
      ) : null}
      {!spec && <div className="lf-error">unknown node type {data.classType}</div>}
      <div className="lf-io">
        <div className="lf-inputs">
          {sockets.map((d) => (
            <div key={d.name} className={`lf-row${issues[d.name] ? ' lf-row-invalid' : ''}`}>
              <Handle
                type="target"
                position={Position.Left}
                id={inHandle(d.name)}
                data-testid={`handle-in-${id}-${d.name}`}
                style={{ background: socketColor(d.type) }}
                title={d.type}
              />
              <span className="lf-label">
                {d.name}
                {d.optional ? '?' : ''}
              </span>
            </div>
          ))}
        </div>
        <div className="lf-outputs">
          {spec?.outputs.map((o, i) => (
            <div key={i} className="lf-row lf-row-out">
              {st.shapes?.[i] && (
                <span className="lf-shape" data-testid={`shape-${id}-${i}`} title="inferred before running">
                  {shapeLabel(o.type, st.shapes[i]!)}
                </span>
              )}
              <span className="lf-label">{o.name}</span>
              <Handle
                type="source"
                position={Position.Right}
                id={outHandle(i)}
                data-testid={`handle-out-${id}-${i}`}
                style={{ background: socketColor(o.type) }}
                title={o.type}
              />
            </div>
          ))}
        </div>
      </div>
      {widgets.map((d) => (
        <div key={d.name} className={`lf-row lf-widget${issues[d.name] ? ' lf-row-invalid' : ''}`}>
          <Handle
            type="target"
            position={Position.Left}
            id={inHandle(d.name)}
            data-testid={`handle-in-${id}-${d.name}`}
            className="lf-widget-handle"
            style={{ background: socketColor(d.type) }}
            title={`${d.type} (connect a link to drive this widget)`}
          />
          <span className="lf-label">{d.name}</span>
          {linked.has(d.name) ? (
            <span className="lf-linked" data-testid={`linked-${id}-${d.name}`}>
              ← linked
            </span>
          ) : (
            <Widget
              nodeId={id}
              def={d}
              value={data.values[d.name]}
              control={data.controls[d.name]}
              onChange={(v) => setValue(id, d.name, v)}
              onControl={(m) => setControl(id, d.name, m)}
              onUpload={(f) => upload(id, d.name, f)}
            />
          )}
        </div>
      ))}
      {Object.entries(issues).map(([input, msg]) => (
        <div key={input} className="lf-issue" data-testid={`issue-${id}-${input || 'node'}`}>
          {input ? `${input}: ` : ''}
          {msg}
        </div>
      ))}
      {st.error && (
        <div className="lf-error" data-testid={`node-error-${id}`}>
          {st.error}
        </div>
      )}
      {st.preview && (st.status === 'running' || !st.images?.length) && (
        <img className="lf-preview" data-testid={`node-preview-${id}`} alt="preview" src={st.preview} />
      )}
      {st.images?.map((im, i) => (
        <img key={`${im.filename}-${i}`} className="lf-image" data-testid={`node-image-${id}`} data-filename={im.filename} alt={im.filename} src={viewUrl(im)} />
      ))}
    </div>
  );
}

/** Memoised: React Flow re-renders a node only when its own props or exec entry change. */
export const FlowNode = memo(FlowNodeView);
