import type { EngineEvent } from '../engine/index.js';

export interface Reporter {
  onEvent(ev: EngineEvent): void;
  done(): void;
}

/** One JSON event per line (the engine's events), for scripts. */
export function jsonReporter(write: (line: string) => void): Reporter {
  return {
    onEvent(ev) {
      const data = ev.type === 'progress' && ev.preview ? { ...ev.data, preview: { format: ev.preview.format, bytes: ev.preview.data.length } } : ev.data;
      write(JSON.stringify({ type: ev.type, data }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    },
    done() {},
  };
}

/** Per-node progress for people: a live line on a TTY, plain lines otherwise. */
export function humanReporter(stream: NodeJS.WriteStream, classOf: (id: string) => string): Reporter {
  const tty = stream.isTTY === true;
  let live = false;
  const clear = () => {
    if (live) stream.write('\r\x1b[2K');
    live = false;
  };
  let lastPlain = -1;
  return {
    onEvent(ev) {
      switch (ev.type) {
        case 'executing':
          clear();
          stream.write(`running node ${ev.data.node} (${classOf(ev.data.node)})\n`);
          lastPlain = -1;
          break;
        case 'progress': {
          const { value, max, node } = ev.data;
          const width = 24;
          const filled = Math.round((value / max) * width);
          const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${value}/${max}`;
          if (tty) {
            stream.write(`\r\x1b[2K  ${classOf(node)} ${bar}`);
            live = true;
          } else {
            const decile = Math.floor((value / max) * 4);
            if (decile !== lastPlain || value === max) stream.write(`  ${classOf(node)} step ${value}/${max}\n`);
            lastPlain = decile;
          }
          break;
        }
        case 'execution_cached':
          if (ev.data.nodes.length) stream.write(`cached: ${ev.data.nodes.join(', ')}\n`);
          break;
        case 'execution_error':
          clear();
          stream.write(`error in node ${ev.data.node_id} (${ev.data.node_type}): ${ev.data.exception_message}\n`);
          break;
        case 'execution_interrupted':
          clear();
          stream.write('interrupted\n');
          break;
        default:
          break;
      }
    },
    done: clear,
  };
}
