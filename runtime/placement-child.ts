/**
 * Child-process entry of node-placement.ts: `<model path> <device json>` on argv; onnxruntime's verbose
 * log on stderr is the answer. Exits 1 with the error on stdout when the session cannot be created.
 */
import { logNodePlacements } from './onnx-session.js';
import type { Device } from './devices.js';

const [modelPath, deviceJson] = process.argv.slice(-2);
const device: Device = JSON.parse(deviceJson);
try {
  await logNodePlacements(modelPath, device);
} catch (e) {
  process.stdout.write(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
}
