/**
 * Worker-thread entry: hosts onnxruntime sessions so their blocking `run` never stalls the main
 * thread. Requests are answered in arrival order; results travel back as transferred buffers.
 */
import { parentPort } from 'node:worker_threads';
import { SessionClosedError, toWireError } from './errors.js';
import { OnnxSession, probeDevice } from './onnx-session.js';
import { ResidentStore } from './resident-store.js';
import type { FromWorker, ToWorker } from './wire.js';
import { packTensors, unpackTensor, unpackTensors } from './wire.js';

class WorkerFaultDrill extends Error {
  override readonly name = 'WorkerFaultDrill';
}

const port = parentPort;
if (port === null) throw new TypeError('inference-worker must run in a worker thread');

const sessions = new Map<number, OnnxSession>();
let nextSessionId = 1;
const residents = new ResidentStore();

function reply(m: FromWorker, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(m, transfer);
}

async function handle(m: Exclude<ToWorker, { type: 'crash' }>): Promise<void> {
  switch (m.type) {
    case 'load': {
      const s = await OnnxSession.create(m.path, m.options, m.patch);
      const sessionId = nextSessionId++;
      sessions.set(sessionId, s);
      reply({ type: 'loaded', id: m.id, sessionId, inputs: [...s.inputs], outputs: [...s.outputs], bytes: s.bytes });
      return;
    }
    case 'run': {
      const s = sessions.get(m.sessionId);
      if (!s) throw new SessionClosedError(`session ${m.sessionId} was released from this worker`);
      const feeds = unpackTensors(m.feeds);
      for (const [name, rows] of Object.entries(m.rows ?? {})) feeds[name] = residents.assemble(rows, s.inputs.find((i) => i.name === name)?.dtype);
      const out = await s.run(feeds, m.outputs);
      const { wire, transfer } = packTensors(out, false);
      reply({ type: 'result', id: m.id, tensors: wire }, transfer);
      return;
    }
    case 'release': {
      const s = sessions.get(m.sessionId);
      sessions.delete(m.sessionId);
      await s?.release();
      reply({ type: 'released', id: m.id });
      return;
    }
    case 'keep': {
      reply({ type: 'kept', id: m.id, handle: residents.keep(unpackTensor(m.tensor)) });
      return;
    }
    case 'probe': {
      reply({ type: 'probed', id: m.id, capabilities: await probeDevice(m.device) });
      return;
    }
    case 'drop': {
      residents.drop(m.handles);
      reply({ type: 'dropped', id: m.id });
      return;
    }
  }
}

// Requests run one after another: onnxruntime's run blocks this thread anyway, and a strict order keeps
// a release from overtaking the runs queued before it.
let queue: Promise<void> = Promise.resolve();
port.on('message', (m: ToWorker) => {
  // Thrown synchronously so the worker dies before it handles anything queued after the drill.
  if (m.type === 'crash') throw new WorkerFaultDrill('inference worker fault drill');
  queue = queue.then(() =>
    handle(m).catch((e: unknown) => {
      reply({ type: 'error', id: m.id, error: toWireError(e) });
    }),
  );
});
