import type { ReactElement } from 'react';

export interface ToolbarProps {
  readonly batch: number;
  readonly setBatch: (batch: number) => void;
  readonly canUndo: boolean;
  readonly canRedo: boolean;
  readonly connected: boolean;
  readonly queueRemaining: number;
  readonly onQueue: () => void;
  readonly onInterrupt: () => void;
  readonly onUndo: () => void;
  readonly onRedo: () => void;
  readonly onFit: () => void;
  readonly onTogglePalette: () => void;
  readonly onSave: () => void;
  readonly onLoad: (file: File) => void;
  readonly onExportApi: () => void;
}

/** The editor's top bar: run controls, history, files, and the server's state. */
export function Toolbar(p: ToolbarProps): ReactElement {
  return (
    <header className="lf-toolbar">
      <strong>latentflow</strong>
      <button data-testid="queue-button" title="Ctrl+Enter" onClick={p.onQueue}>
        Queue
      </button>
      <label>
        batch <input data-testid="batch-count" type="number" min={1} max={100} value={p.batch} onChange={(e) => p.setBatch(Math.max(1, Number(e.target.value) || 1))} />
      </label>
      <button data-testid="interrupt-button" onClick={p.onInterrupt}>
        Interrupt
      </button>
      <span className="lf-sep" />
      <button data-testid="undo-button" disabled={!p.canUndo} onClick={p.onUndo}>
        Undo
      </button>
      <button data-testid="redo-button" disabled={!p.canRedo} onClick={p.onRedo}>
        Redo
      </button>
      <button data-testid="fit-button" onClick={p.onFit}>
        Fit
      </button>
      <button onClick={p.onTogglePalette}>Nodes</button>
      <span className="lf-sep" />
      <button data-testid="save-button" onClick={p.onSave}>
        Save
      </button>
      <label className="lf-file-button">
        Load
        <input
          data-testid="load-input"
          type="file"
          accept=".json,.png,application/json,image/png"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) p.onLoad(f);
            // Cleared, so choosing the same file again still fires a change.
            e.target.value = '';
          }}
        />
      </label>
      <button data-testid="export-api-button" onClick={p.onExportApi}>
        Export API
      </button>
      <span className="lf-grow" />
      <span data-testid="connection-status" className={p.connected ? 'lf-ok' : 'lf-bad'}>
        {p.connected ? 'connected' : 'offline'}
      </span>
      <span data-testid="queue-remaining">queue: {p.queueRemaining}</span>
    </header>
  );
}
