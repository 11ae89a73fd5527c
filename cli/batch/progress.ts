import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { stringifyJson } from '../../engine/index.js';
import type { BatchEvent } from './runner.js';

export interface BatchReporter {
  onEvent(ev: BatchEvent): void;
  /** Restores the terminal (bars drawn on a TTY). */
  stop(): void;
  /** A line for people, kept clear of live bars. */
  log(line: string): void;
}

/** One JSON object per line: the engine's events as `{type, job, data}`, and the job-level events. */
export function jsonBatchReporter(write: (line: string) => void): BatchReporter {
  return {
    onEvent(ev) {
      if (ev.type === 'engine') {
        const e = ev.event;
        const data = e.type === 'progress' && e.preview ? { ...e.data, preview: { format: e.preview.format, bytes: e.preview.data.length } } : e.data;
        write(stringifyJson({ type: e.type, job: ev.job, data }));
        return;
      }
      const { type, ...data } = ev;
      write(stringifyJson({ type, data }));
    },
    stop() {},
    log() {},
  };
}

function seconds(ms: number | undefined): string {
  return `${((ms ?? 0) / 1000).toFixed(2)} s`;
}

/** Plain lines (logs, CI, pipes): job starts and ends, sampler steps at each quarter. */
export function plainBatchReporter(write: (line: string) => void): BatchReporter {
  let total = 0;
  let finished = 0;
  const lastQuarter = new Map<string, number>();
  return {
    onEvent(ev) {
      switch (ev.type) {
        case 'batch_start':
          total = ev.to_run;
          write(`batch: ${ev.total} jobs, ${ev.to_run} to run, ${ev.skipped} already done, ${ev.jobs} at a time`);
          break;
        case 'job_start':
          write(`start ${ev.job}  ${ev.label}`);
          break;
        case 'engine': {
          if (ev.event.type !== 'progress') break;
          const { value, max, node } = ev.event.data;
          const q = Math.floor((value / max) * 4);
          const key = `${ev.job}\0${node}`;
          if (q !== lastQuarter.get(key) || value === max) {
            lastQuarter.set(key, q);
            write(`  ${ev.job} node ${node} step ${value}/${max}`);
          }
          break;
        }
        case 'job_end': {
          finished++;
          const r = ev.record;
          const head = `[${finished}/${total}] ${r.status} ${ev.job} in ${seconds(r.duration_ms)}`;
          if (r.status === 'done') write(`${head} -> ${r.outputs.map((o) => o.file).join(', ') || '(no files)'}`);
          else write(`${head}${r.error ? `: ${r.error.node ? `node ${r.error.node} (${r.error.node_type}): ` : ''}${r.error.message}` : ''}  (${ev.label})`);
          for (const k of lastQuarter.keys()) if (k.startsWith(`${ev.job}\0`)) lastQuarter.delete(k);
          break;
        }
        default:
          break;
      }
    },
    stop() {},
    log: write,
  };
}

/** Live bars on a TTY: one per running job (step k/N of its current node) and one for the batch, with ETA. */
export function ttyBatchReporter(stream: NodeJS.WriteStream, classOf: (nodeId: string) => string): BatchReporter {
  const multi = new MultiBar({ stream, hideCursor: true, clearOnComplete: false, autopadding: true, etaBuffer: 20, fps: 10 }, Presets.shades_classic);
  let overall: SingleBar | undefined;
  let failed = 0;
  const bars = new Map<string, SingleBar>();
  return {
    onEvent(ev) {
      switch (ev.type) {
        case 'batch_start':
          if (ev.skipped) multi.log(`${ev.skipped} of ${ev.total} jobs already done (outputs verified)\n`);
          overall = multi.create(ev.to_run, 0, { failed: 0 }, { format: 'batch  |{bar}| {value}/{total} jobs | {percentage}% | ETA {eta_formatted} | {failed} failed' });
          break;
        case 'job_start':
          bars.set(ev.job, multi.create(1, 0, { job: ev.job.slice(0, 10), node: 'queued' }, { format: '  {job} |{bar}| step {value}/{total} {node}' }));
          break;
        case 'engine': {
          const bar = bars.get(ev.job);
          if (!bar) break;
          if (ev.event.type === 'executing') bar.update({ node: `${ev.event.data.node} ${classOf(ev.event.data.node)}` });
          else if (ev.event.type === 'progress') {
            bar.setTotal(ev.event.data.max);
            bar.update(ev.event.data.value);
          }
          break;
        }
        case 'job_end': {
          const bar = bars.get(ev.job);
          if (bar) multi.remove(bar);
          bars.delete(ev.job);
          const r = ev.record;
          if (r.status === 'failed') {
            failed++;
            multi.log(`failed ${ev.job} (${ev.label}): ${r.error?.message ?? ''}\n`);
          }
          overall?.increment(1, { failed });
          break;
        }
        default:
          break;
      }
    },
    stop() {
      multi.stop();
    },
    log(line) {
      multi.log(`${line}\n`);
    },
  };
}
