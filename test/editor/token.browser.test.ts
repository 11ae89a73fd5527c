import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureEditorBuilt, launchBrowser, screenshot, skipReason, startServer, type RunningBrowser, type RunningServer } from './harness.js';

const skip = skipReason();
const TOKEN = 'lan-secret-4711';

describe.skipIf(skip !== undefined)('editor against a server started with --token', () => {
  let server: RunningServer;
  let browser: RunningBrowser;

  beforeAll(async () => {
    ensureEditorBuilt();
    server = await startServer({ token: TOKEN });
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('asks for the token, refuses a wrong one, then runs with the right one (API, WebSocket and /view)', async () => {
    const page = await browser.context.newPage();
    await page.goto(server.url);
    await page.locator('[data-testid="token-form"]').waitFor({ timeout: 30_000 });
    await screenshot(page, '13-token-asked');
    await page.fill('[data-testid="token-input"]', 'wrong');
    await page.press('[data-testid="token-input"]', 'Enter');
    await expect.poll(() => page.textContent('[data-testid="token-form"]'), { timeout: 30_000 }).toContain('refused the stored access token');
    await page.fill('[data-testid="token-input"]', TOKEN);
    await page.press('[data-testid="token-input"]', 'Enter');
    await page.locator('[data-testid="canvas"]').waitFor({ timeout: 30_000 });
    await expect.poll(() => page.textContent('[data-testid="connection-status"]'), { timeout: 30_000 }).toBe('connected');
    const save = (await page.locator('[data-type="SaveImage"]').first().getAttribute('data-testid'))!.replace(/^node-/, '');
    await page.locator('[data-testid="queue-button"]').click();
    await page.locator(`[data-testid="node-image-${save}"]`).first().waitFor({ timeout: 90_000 });
    await page.waitForFunction((sel) => {
      const img = document.querySelector<HTMLImageElement>(sel);
      return img !== null && img.complete && img.naturalWidth > 0;
    }, `[data-testid="node-image-${save}"]`);
    await page.close();
  }, 180_000);

  it('takes the token from the address serve prints, and drops it from the address bar', async () => {
    expect(server.log()).toContain(`editor at ${server.url}/?token=${TOKEN}`);
    const page = await browser.context.newPage();
    await page.goto(server.url);
    await page.evaluate(() => localStorage.clear());
    await page.goto(`${server.url}/?token=${TOKEN}`);
    await page.locator('[data-testid="canvas"]').waitFor({ timeout: 30_000 });
    expect(page.url()).toBe(`${server.url}/`);
    await expect.poll(() => page.textContent('[data-testid="connection-status"]'), { timeout: 30_000 }).toBe('connected');
    await page.close();
  }, 120_000);
});
