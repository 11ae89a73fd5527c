import { useEffect, useState, type ReactElement } from 'react';
import type { JsonValue } from '../../../engine/json.js';
import { clearHistory, clearQueue, deleteQueued, fetchHistory, fetchQueue, viewUrl } from '../api/client.js';
import type { ImageRef } from '../exec/state.js';

interface QueueRow {
  readonly promptId: string;
  readonly number: number;
  readonly running: boolean;
}

interface HistoryRow {
  readonly promptId: string;
  readonly status: string;
  readonly images: ImageRef[];
  readonly workflow?: JsonValue;
}

function rec(v: JsonValue | undefined): Record<string, JsonValue> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
}

function queueRows(body: JsonValue): QueueRow[] {
  const b = rec(body);
  const rows = (list: JsonValue | undefined, running: boolean): QueueRow[] =>
    (Array.isArray(list) ? list : []).flatMap((item) =>
      Array.isArray(item) && typeof item[1] === 'string' ? [{ promptId: item[1], number: typeof item[0] === 'number' ? item[0] : 0, running }] : [],
    );
  return [...rows(b?.queue_running, true), ...rows(b?.queue_pending, false)];
}

function historyRows(body: JsonValue): HistoryRow[] {
  const out: HistoryRow[] = [];
  for (const [promptId, entry] of Object.entries(rec(body) ?? {})) {
    const e = rec(entry);
    const status = rec(rec(e?.status) ?? undefined)?.status_str;
    const images: ImageRef[] = [];
    for (const o of Object.values(rec(e?.outputs) ?? {})) {
      const list = rec(o)?.images;
      for (const im of Array.isArray(list) ? list : []) {
        const r = rec(im);
        if (typeof r?.filename === 'string') images.push({ filename: r.filename, subfolder: typeof r.subfolder === 'string' ? r.subfolder : '', type: typeof r.type === 'string' ? r.type : 'output' });
      }
    }
    const item = e?.prompt;
    const extra = Array.isArray(item) ? rec(item[3]) : undefined;
    const workflow = rec(extra?.extra_pnginfo)?.workflow;
    out.push({ promptId, status: typeof status === 'string' ? status : '?', images, workflow });
  }
  return out.reverse();
}

/** Pending and running prompts, and finished ones with their images; refreshed on each queue change. */
export function QueuePanel({ version, onOpen }: { version: number; onOpen(workflow: JsonValue): void }): ReactElement {
  const [queue, setQueue] = useState<QueueRow[]>([]);
  const [history, setHistory] = useState<HistoryRow[]>([]);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    Promise.all([fetchQueue(), fetchHistory(30)])
      .then(([q, h]) => {
        if (!live) return;
        setQueue(queueRows(q));
        setHistory(historyRows(h));
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [version, tick]);
  const refresh = (): void => setTick((t) => t + 1);
  return (
    <aside className="lf-queue" data-testid="queue-panel">
      <h3>
        Queue <button onClick={() => void clearQueue().then(refresh)}>clear</button>
      </h3>
      {queue.length === 0 && <p className="lf-muted">empty</p>}
      {queue.map((r) => (
        <div key={r.promptId} className="lf-queue-row" data-testid="queue-item" data-running={r.running}>
          #{r.number} {r.running ? 'running' : 'pending'}
          {!r.running && <button onClick={() => void deleteQueued([r.promptId]).then(refresh)}>✕</button>}
        </div>
      ))}
      <h3>
        History <button onClick={() => void clearHistory().then(refresh)}>clear</button>
      </h3>
      {history.map((h) => (
        <div key={h.promptId} className="lf-history-row" data-testid="history-item" data-status={h.status}>
          <div>
            <span className={`lf-badge lf-badge-${h.status}`}>{h.status}</span> <small>{h.promptId.slice(0, 8)}</small>
            {h.workflow !== undefined && (
              <button title="open this workflow" onClick={() => onOpen(h.workflow!)}>
                open
              </button>
            )}
          </div>
          {h.images.slice(0, 4).map((im) => (
            <img key={im.filename} src={viewUrl(im)} alt={im.filename} />
          ))}
        </div>
      ))}
    </aside>
  );
}
