import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { readPngText } from '../../engine/formats/png-text.js';
import { dragBetween, ensureEditorBuilt, launchBrowser, openEditor, screenshot, skipReason, startServer, type RunningBrowser, type RunningServer } from './harness.js';
import { COMFYUI_EXAMPLES, itWith } from '../fixtures/shared-data.js';

const skip = skipReason();
if (skip) console.warn(`editor browser tests skipped: ${skip}`);

const EXAMPLES = COMFYUI_EXAMPLES.dir;
// NOTE: CI machines are shared and slow; a poll may wait, it must not race.
const POLL = { timeout: 15_000 };
const TXT2IMG = ['CheckpointLoaderSimple', 'CLIPTextEncode', 'EmptyLatentImage', 'KSampler', 'VAEDecode', 'SaveImage'];

async function nodeIdOf(page: Page, type: string, nth = 0): Promise<string> {
  const testid = await page.locator(`[data-type="${type}"]`).nth(nth).getAttribute('data-testid');
  if (!testid) throw new Error(`no ${type} node`);
  return testid.replace(/^node-/, '');
}

describe.skipIf(skip !== undefined)('editor in Chromium against latentflow serve', () => {
  let server: RunningServer;
  let browser: RunningBrowser;
  let types: Set<string>;

  beforeAll(async () => {
    ensureEditorBuilt();
    server = await startServer();
    browser = await launchBrowser();
    types = new Set(Object.keys((await (await fetch(`${server.url}/object_info`)).json()) as Record<string, unknown>));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('opens the text-to-image workflow, queues it, shows progress and the saved image', async (ctx) => {
    const missing = TXT2IMG.filter((t) => !types.has(t));
    if (missing.length) ctx.skip(`the server does not register ${missing.join(', ')}`);
    const page = await openEditor(browser.context, server.url);
    for (const t of TXT2IMG) await page.locator(`[data-type="${t}"]`).first().waitFor();
    const ks = await nodeIdOf(page, 'KSampler');
    const save = await nodeIdOf(page, 'SaveImage');
    // Record every status each node shows, from the DOM, so short-lived states are not missed.
    await page.evaluate(() => {
      const seen: Record<string, string[]> = {};
      Object.assign(window, { __statuses: seen });
      new MutationObserver(() => {
        document.querySelectorAll('[data-testid^="node-status-"]').forEach((el) => {
          const id = el.getAttribute('data-testid')!.slice('node-status-'.length);
          const list = (seen[id] ??= []);
          const text = el.textContent ?? '';
          if (list[list.length - 1] !== text) list.push(text);
        });
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.selectOption(`[data-testid="control-${ks}-seed"]`, 'increment');
    const seed = Number(await page.inputValue(`[data-testid="widget-${ks}-seed"]`));
    await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Control+Enter');
    // The observer's record, not the live DOM: a short run can pass through 'running' between two polls.
    const statusesOf = (id: string): Promise<string[]> => page.evaluate((n) => (window as unknown as { __statuses: Record<string, string[]> }).__statuses[n] ?? [], id);
    await expect.poll(() => statusesOf(ks), { timeout: 60_000 }).toContainEqual(expect.stringMatching(/^running \d+\/\d+$/));
    await screenshot(page, '1-txt2img-running');
    const image = page.locator(`[data-testid="node-image-${save}"]`).first();
    await image.waitFor({ timeout: 90_000 });
    await page.waitForFunction((sel) => {
      const img = document.querySelector<HTMLImageElement>(sel);
      return img !== null && img.complete && img.naturalWidth > 0;
    }, `[data-testid="node-image-${save}"]`);
    await expect.poll(() => page.textContent(`[data-testid="node-status-${ks}"]`), POLL).toMatch(/^done \d+\.\d\d s$/);
    // Seed control applies after queueing.
    expect(Number(await page.inputValue(`[data-testid="widget-${ks}-seed"]`))).toBe(seed + 1);
    await page.locator('[data-testid="history-item"][data-status="success"]').first().waitFor({ timeout: 10_000 });
    await screenshot(page, '2-txt2img-done');
    await page.close();
  }, 180_000);

  it('marks the nodes a changed seed would re-run as stale, after a finished run', async (ctx) => {
    if (!TXT2IMG.every((t) => types.has(t))) ctx.skip('the server does not register the text-to-image nodes');
    const page = await openEditor(browser.context, server.url);
    for (const t of TXT2IMG) await page.locator(`[data-type="${t}"]`).first().waitFor();
    const ks = await nodeIdOf(page, 'KSampler');
    await page.selectOption(`[data-testid="control-${ks}-seed"]`, 'fixed');
    // Before any run there is nothing to compare with.
    expect(await page.locator('[data-testid^="node-stale-"]').count()).toBe(0);
    await page.locator('[data-testid="queue-button"]').click();
    const save = await nodeIdOf(page, 'SaveImage');
    await expect.poll(() => page.getAttribute(`[data-testid="node-${save}"]`, 'data-status'), { timeout: 90_000 }).toMatch(/^(done|cached)$/);
    // Marks appear only once the finished run is known, so waiting for them also waits for execution_success.
    const seed = page.locator(`[data-testid="widget-${ks}-seed"]`);
    const original = await seed.inputValue();
    await seed.fill(String(Number(original) + 1));
    const stale = [ks, await nodeIdOf(page, 'VAEDecode'), save];
    for (const id of stale) await page.locator(`[data-testid="node-stale-${id}"]`).waitFor({ timeout: 10_000 });
    const fresh = [await nodeIdOf(page, 'CheckpointLoaderSimple'), await nodeIdOf(page, 'CLIPTextEncode', 0), await nodeIdOf(page, 'CLIPTextEncode', 1), await nodeIdOf(page, 'EmptyLatentImage')];
    for (const id of fresh) expect(await page.locator(`[data-testid="node-stale-${id}"]`).count()).toBe(0);
    expect(await page.locator('[data-testid^="node-stale-"]').count()).toBe(stale.length);
    await screenshot(page, '11-stale-after-seed-change');
    // Back to the seed that ran: nothing would re-run.
    await seed.fill(original);
    await expect.poll(() => page.locator('[data-testid^="node-stale-"]').count(), POLL).toBe(0);
    // Run the other seed, then the first again: the server has both cached, so the last run finishes
    // before its HTTP response arrives, and it must still become the run the marks compare with.
    // Marks are hidden while nodes are pending or running, so counts are read once the page has settled.
    const settledMarks = () =>
      page.evaluate(() => (document.querySelector('[data-status="pending"], [data-status="running"]') ? -1 : document.querySelectorAll('[data-testid^="node-stale-"]').length));
    const finished = async () => Object.keys((await (await fetch(`${server.url}/history`)).json()) as object).length;
    const queueAndWait = async () => {
      const before = await finished();
      await page.locator('[data-testid="queue-button"]').click();
      await expect.poll(finished, { timeout: 90_000 }).toBeGreaterThan(before);
    };
    await seed.fill(String(Number(original) + 1));
    await queueAndWait();
    await expect.poll(settledMarks, { timeout: 15_000 }).toBe(0);
    await seed.fill(original);
    await expect.poll(settledMarks, { timeout: 15_000 }).toBe(stale.length);
    await queueAndWait();
    await expect.poll(settledMarks, { timeout: 15_000 }).toBe(0);
    await page.close();
  }, 120_000);

  it('shows inferred shapes on outputs before running, and updates them when a size changes', async (ctx) => {
    if (!TXT2IMG.every((t) => types.has(t))) ctx.skip('the server does not register the text-to-image nodes');
    const page = await openEditor(browser.context, server.url);
    for (const t of TXT2IMG) await page.locator(`[data-type="${t}"]`).first().waitFor();
    const latent = await nodeIdOf(page, 'EmptyLatentImage');
    const ks = await nodeIdOf(page, 'KSampler');
    const decode = await nodeIdOf(page, 'VAEDecode');
    const w = Number(await page.inputValue(`[data-testid="widget-${latent}-width"]`));
    const h = Number(await page.inputValue(`[data-testid="widget-${latent}-height"]`));
    await expect.poll(() => page.textContent(`[data-testid="shape-${latent}-0"]`).catch(() => null), POLL).toBe(`4x${h / 8}x${w / 8}`);
    await expect.poll(() => page.textContent(`[data-testid="shape-${ks}-0"]`).catch(() => null), POLL).toBe(`4x${h / 8}x${w / 8}`);
    await expect.poll(() => page.textContent(`[data-testid="shape-${decode}-0"]`).catch(() => null), POLL).toBe(`${w}x${h}`);
    await page.fill(`[data-testid="widget-${latent}-width"]`, '320');
    await page.fill(`[data-testid="widget-${latent}-batch_size"]`, '2');
    await expect.poll(() => page.textContent(`[data-testid="shape-${decode}-0"]`).catch(() => null), POLL).toBe(`320x${h} x2`);
    expect(await page.textContent(`[data-testid="shape-${latent}-0"]`)).toBe(`4x${h / 8}x40 x2`);
    // Nothing is inferred for a checkpoint's MODEL, CLIP and VAE.
    expect(await page.locator(`[data-testid^="shape-${await nodeIdOf(page, 'CheckpointLoaderSimple')}-"]`).count()).toBe(0);
    await screenshot(page, '12-inferred-shapes');
    await page.close();
  }, 120_000);

  it('refuses an incompatible link and says why, and a widget becomes an input when linked', async (ctx) => {
    if (!TXT2IMG.every((t) => types.has(t))) ctx.skip('the server does not register the text-to-image nodes');
    const page = await openEditor(browser.context, server.url);
    await page.locator('[data-type="VAEDecode"]').waitFor();
    const latent = await nodeIdOf(page, 'EmptyLatentImage');
    const decode = await nodeIdOf(page, 'VAEDecode');
    const ks = await nodeIdOf(page, 'KSampler');
    const edges = await page.locator('.react-flow__edge').count();
    await dragBetween(page, `[data-testid="handle-out-${latent}-0"]`, `[data-testid="handle-in-${decode}-vae"]`);
    await expect.poll(() => page.textContent('[data-testid="connect-reason"]'), POLL).toBe('type mismatch: output is LATENT, input expects VAE');
    await screenshot(page, '3-link-refused-while-dragging');
    await page.mouse.up();
    await expect.poll(() => page.textContent('[data-testid="connect-refused"]'), POLL).toContain('type mismatch: output is LATENT, input expects VAE');
    expect(await page.locator('.react-flow__edge').count()).toBe(edges);
    await screenshot(page, '4-link-refused');

    // One link per input.
    const ckpt = await nodeIdOf(page, 'CheckpointLoaderSimple');
    await dragBetween(page, `[data-testid="handle-out-${ckpt}-0"]`, `[data-testid="handle-in-${ks}-model"]`);
    await page.mouse.up();
    await expect.poll(() => page.textContent('[data-testid="connect-refused"]'), POLL).toContain("one link per input: 'model'");

    // Widget to input: a primitive INT node found with the double-click search drives KSampler's steps.
    await page.locator('.react-flow__pane').dblclick({ position: { x: 300, y: 80 } });
    await page.fill('[data-testid="node-search-input"]', 'int');
    const item = page.locator('[data-testid^="search-item-"]').first();
    const type = (await item.getAttribute('data-testid'))!.replace('search-item-', '');
    await item.click();
    const prim = await nodeIdOf(page, type);
    const intSlot = await page.locator(`[data-testid^="handle-out-${prim}-"]`).first().getAttribute('data-testid');
    await dragBetween(page, `[data-testid="${intSlot}"]`, `[data-testid="handle-in-${ks}-steps"]`);
    await page.mouse.up();
    await page.locator(`[data-testid="linked-${ks}-steps"]`).waitFor();
    expect(await page.locator(`[data-testid="widget-${ks}-steps"]`).count()).toBe(0);
    expect(await page.locator('.react-flow__edge').count()).toBe(edges + 1);
    await screenshot(page, '5-widget-linked');
    await page.close();
  }, 120_000);

  it('edits a widget and undoes it', async (ctx) => {
    if (!TXT2IMG.every((t) => types.has(t))) ctx.skip('the server does not register the text-to-image nodes');
    const page = await openEditor(browser.context, server.url);
    await page.locator('[data-type="KSampler"]').waitFor();
    const ks = await nodeIdOf(page, 'KSampler');
    const steps = page.locator(`[data-testid="widget-${ks}-steps"]`);
    const before = await steps.inputValue();
    await steps.fill('7');
    await expect.poll(() => steps.inputValue(), POLL).toBe('7');
    await screenshot(page, '6-widget-edited');
    await page.locator('[data-testid="undo-button"]').click();
    await expect.poll(() => steps.inputValue(), POLL).toBe(before);
    await page.locator('[data-testid="redo-button"]').click();
    await expect.poll(() => steps.inputValue(), POLL).toBe('7');
    // Keyboard undo from the canvas.
    await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Control+z');
    await expect.poll(() => steps.inputValue(), POLL).toBe(before);
    await screenshot(page, '7-widget-undone');
    // Out of range: validation marks the field and nothing is queued.
    await steps.fill('0');
    await page.locator('[data-testid="queue-button"]').click();
    await page.locator(`[data-testid="issue-${ks}-steps"]`).waitFor();
    expect(await page.textContent(`[data-testid="issue-${ks}-steps"]`)).toContain('value smaller than min');
    await screenshot(page, '8-validation');
    // Copy/paste of a selected node, then undo removes the pasted copy.
    const count = await page.locator('.react-flow__node').count();
    await page.locator(`[data-testid="node-${ks}"] .lf-title`).click();
    await page.keyboard.press('Control+c');
    await page.keyboard.press('Control+v');
    await expect.poll(() => page.locator('[data-type="KSampler"]').count(), POLL).toBe(2);
    await page.keyboard.press('Delete');
    await expect.poll(() => page.locator('.react-flow__node').count(), POLL).toBe(count);
    await page.keyboard.press('Control+z');
    await expect.poll(() => page.locator('.react-flow__node').count(), POLL).toBe(count + 1);
    await page.close();
  }, 60_000);

  itWith(COMFYUI_EXAMPLES, 'uploads an image into LoadImage and previews it from /view', async (ctx) => {
    if (!types.has('LoadImage')) ctx.skip('the server does not register LoadImage');
    const page = await openEditor(browser.context, server.url);
    await page.locator('.react-flow__node').first().waitFor();
    await page.locator('.react-flow__pane').dblclick({ position: { x: 300, y: 80 } });
    await page.fill('[data-testid="node-search-input"]', 'LoadImage');
    await page.locator('[data-testid="search-item-LoadImage"]').click();
    const id = await nodeIdOf(page, 'LoadImage');
    const png = path.join(EXAMPLES, 'yosemite_inpaint_example.png');
    await page.setInputFiles(`[data-testid="upload-${id}-image"]`, png);
    await expect.poll(() => page.inputValue(`[data-testid="widget-${id}-image"]`), POLL).toBe('yosemite_inpaint_example.png');
    await page.waitForFunction((sel) => {
      const img = document.querySelector<HTMLImageElement>(sel);
      return img !== null && img.complete && img.naturalWidth > 0;
    }, `[data-testid="upload-preview-${id}-image"]`);
    await screenshot(page, '10-upload-preview');
    await page.close();
  }, 60_000);

  itWith(COMFYUI_EXAMPLES, 'opens a ComfyUI example PNG dropped on the canvas', async (ctx) => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.png'));
    const usable = files.find((f) => {
      const text = readPngText(new Uint8Array(readFileSync(path.join(EXAMPLES, f))));
      if (!text.prompt || !text.workflow) return false;
      const prompt = JSON.parse(text.prompt) as Record<string, { class_type: string }>;
      return Object.values(prompt).every((n) => types.has(n.class_type));
    });
    if (!usable) ctx.skip('no example PNG whose node types this server registers');
    const bytes = readFileSync(path.join(EXAMPLES, usable!));
    const prompt = JSON.parse(readPngText(new Uint8Array(bytes)).prompt!) as Record<string, { class_type: string }>;
    const page = await openEditor(browser.context, server.url);
    await page.locator('.react-flow__node').first().waitFor();
    await page.evaluate(
      ({ b64, name }) => {
        const bin = atob(b64);
        const data = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) data[i] = bin.charCodeAt(i);
        const dt = new DataTransfer();
        dt.items.add(new File([data], name, { type: 'image/png' }));
        document.querySelector('[data-testid="canvas"]')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      },
      { b64: bytes.toString('base64'), name: usable! },
    );
    const want = Object.values(prompt).map((n) => n.class_type).sort();
    await expect.poll(async () => (await page.locator('[data-type]').evaluateAll((els) => els.map((e) => e.getAttribute('data-type')!))).sort(), POLL).toEqual(want);
    for (const [id, n] of Object.entries(prompt)) expect(await page.getAttribute(`[data-testid="node-${id}"]`, 'data-type')).toBe(n.class_type);
    await page.waitForTimeout(300);
    await screenshot(page, `9-dropped-${path.basename(usable!, '.png')}`);
    await page.close();
  }, 60_000);
});
