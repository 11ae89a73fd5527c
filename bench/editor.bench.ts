/**
 * Editor with 500 nodes in Chromium: frame times (requestAnimationFrame deltas measured in the
 * page) while panning with the mouse, at zoom 1 (part of the graph on screen, the rest culled by
 * onlyRenderVisibleElements) and zoomed out to fit (every node drawn).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { REPO, ensureEditorBuilt, launchBrowser, skipReason, startServer } from '../test/editor/harness.js';

const AUTOSAVE_KEY = 'latentflow.editor.workflow';
const NODES = 500;

/** workflows/txt2img.json repeated under fresh ids until there are NODES nodes. */
function bigWorkflow(): Record<string, { class_type: string; inputs: Record<string, unknown> }> {
  const base = JSON.parse(readFileSync(path.join(REPO, 'workflows', 'txt2img.json'), 'utf8')) as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
  const ids = Object.keys(base);
  const out: Record<string, { class_type: string; inputs: Record<string, unknown> }> = {};
  for (let copy = 0; Object.keys(out).length < NODES; copy++) {
    const map = new Map(ids.map((id, i) => [id, String(copy * ids.length + i + 1)]));
    for (const id of ids) {
      if (Object.keys(out).length >= NODES) break;
      const inputs: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(base[id]!.inputs)) inputs[k] = Array.isArray(v) && typeof v[0] === 'string' ? [map.get(v[0]), v[1]] : v;
      out[map.get(id)!] = { class_type: base[id]!.class_type, inputs };
    }
  }
  // Links to nodes cut off by the NODES limit are dropped.
  for (const n of Object.values(out)) for (const [k, v] of Object.entries(n.inputs)) if (Array.isArray(v) && !(String(v[0]) in out)) delete n.inputs[k];
  return out;
}

interface FrameStats {
  frames: number;
  mean: number;
  p95: number;
  max: number;
}

async function panAndMeasure(page: Page, ms: number): Promise<FrameStats> {
  // A string, not a function: tsx would wrap named inner functions in a helper the page lacks.
  await page.evaluate(`(() => {
    window.__deltas = [];
    window.__stop = false;
    let last = performance.now();
    function tick(t) {
      window.__deltas.push(t - last);
      last = t;
      if (!window.__stop) requestAnimationFrame(tick);
    }
    requestAnimationFrame(tick);
  })()`);
  const box = (await page.locator('.react-flow__pane').boundingBox())!;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  await page.mouse.move(cx, cy);
  await page.mouse.down();
  const t0 = Date.now();
  for (let i = 0; Date.now() - t0 < ms; i++) {
    const a = (i / 30) * Math.PI;
    await page.mouse.move(cx + Math.cos(a) * 300, cy + Math.sin(a) * 200);
  }
  await page.mouse.up();
  const deltas = await page.evaluate(() => {
    const w = window as unknown as { __deltas: number[]; __stop: boolean };
    w.__stop = true;
    return w.__deltas.slice(1);
  });
  const sorted = [...deltas].sort((x, y) => x - y);
  return {
    frames: deltas.length,
    mean: deltas.reduce((s, d) => s + d, 0) / Math.max(1, deltas.length),
    p95: sorted[Math.floor(sorted.length * 0.95)] ?? 0,
    max: sorted[sorted.length - 1] ?? 0,
  };
}

function line(label: string, s: FrameStats, rendered: number): string {
  return `${label.padEnd(26)} ${String(rendered).padStart(4)} nodes in DOM  frames ${String(s.frames).padStart(4)}  mean ${s.mean.toFixed(1)} ms (${(1000 / s.mean).toFixed(0)} fps)  p95 ${s.p95.toFixed(1)} ms  max ${s.max.toFixed(1)} ms`;
}

export default async function (): Promise<void> {
  const skip = skipReason();
  if (skip) {
    console.log(`skipped: ${skip}`);
    return;
  }
  ensureEditorBuilt();
  const server = await startServer();
  const browser = await launchBrowser({ width: 1600, height: 1000 });
  try {
    const page = await browser.context.newPage();
    await page.goto(server.url);
    const wf = bigWorkflow();
    await page.evaluate(([key, text]) => localStorage.setItem(key, text), [AUTOSAVE_KEY, JSON.stringify(wf)] as const);
    const t0 = performance.now();
    await page.reload();
    await page.locator('.react-flow__node').first().waitFor({ timeout: 60_000 });
    console.log(`${Object.keys(wf).length} nodes loaded and first drawn in ${(performance.now() - t0).toFixed(0)} ms`);
    await page.locator('[data-testid="fit-button"]').click();
    await page.waitForTimeout(500);
    const fitted = await page.locator('.react-flow__node').count();
    const fit = await panAndMeasure(page, 2500);
    // Zoom 1 around the pane's centre: the viewport shows a few nodes, the rest are culled.
    await page.evaluate(() => {
      const pane = document.querySelector('.react-flow__pane')!;
      const r = pane.getBoundingClientRect();
      for (let i = 0; i < 12; i++) pane.dispatchEvent(new WheelEvent('wheel', { deltaY: -300, clientX: r.x + r.width / 2, clientY: r.y + r.height / 2, bubbles: true, ctrlKey: true }));
    });
    await page.waitForTimeout(500);
    const zoomed = await page.locator('.react-flow__node').count();
    const near = await panAndMeasure(page, 2500);
    console.log(line('pan, zoomed out (fit)', fit, fitted));
    console.log(line('pan, zoomed in', near, zoomed));
    console.log('(frame time is what the page achieved while the mouse dragged the canvas; 16.7 ms = 60 fps)');
  } finally {
    await browser.close();
    await server.stop();
  }
}
