/**
 * Browser-test plumbing: builds the editor when editor/dist is missing or older than its sources,
 * starts the real `latentflow serve` on a free port with a temp base dir, and drives Debian's
 * Chromium through playwright-core.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { freePort } from '../fixtures/free-port.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = path.join(REPO, 'test-artifacts', 'editor');

/** Why the browser tests cannot run here, or undefined when they can. */
export function skipReason(): string | undefined {
  if (!existsSync(path.join(REPO, 'server', 'index.ts'))) return 'server/ is not there yet: browser tests need `latentflow serve`';
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install chromium)`;
  return undefined;
}


/** Runs `npm run editor:build` unless editor/dist is newer than everything the bundle is built from. */
export function ensureEditorBuilt(): void {
  execFileSync(process.execPath, [path.join(REPO, 'editor', 'ensure-built.mjs')], { cwd: REPO, stdio: 'pipe' });
}

export interface RunningServer {
  readonly url: string;
  readonly baseDir: string;
  readonly log: () => string;
  stop(): Promise<void>;
}

/** `latentflow serve` as a child process over a temp base dir, with the repo's toyworld models. */
export async function startServer(opts: { token?: string } = {}): Promise<RunningServer> {
  const baseDir = mkdtempSync(path.join(os.tmpdir(), 'lf-editor-'));
  mkdirSync(path.join(baseDir, 'input'), { recursive: true });
  const port = await freePort();
  let log = '';
  const child: ChildProcess = spawn(
    process.execPath,
    ['bin/latentflow.js', 'serve', '--port', String(port), '--base-dir', baseDir, '--models-dir', path.join(REPO, 'models'), '--no-toyworld', ...(opts.token ? ['--token', opts.token] : [])],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`latentflow serve exited with ${child.exitCode}:\n${log}`);
    try {
      const res = await fetch(`${url}/object_info`, { headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {} });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`latentflow serve did not come up:\n${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    baseDir,
    log: () => log,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(baseDir, { recursive: true, force: true });
    },
  };
}

export interface RunningBrowser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Chromium on a fresh profile (playwright takes the profile as launchPersistentContext's dir). */
export async function launchBrowser(viewport = { width: 1600, height: 1000 }): Promise<RunningBrowser> {
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'lf-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    viewport,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** A new page at the editor with autosave cleared, so it opens the first-run workflow. */
export async function openEditor(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await page.waitForSelector('[data-testid="canvas"]', { timeout: 30_000 });
  return page;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Drags from the centre of one element to the centre of another with real mouse events. */
export async function dragBetween(page: Page, fromSelector: string, toSelector: string): Promise<void> {
  const a = await page.locator(fromSelector).boundingBox();
  const b = await page.locator(toSelector).boundingBox();
  if (!a || !b) throw new Error(`cannot find ${a ? toSelector : fromSelector}`);
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 5 });
}
