// The demo in a real browser (issue 5): headless Chromium from Debian, driven by playwright-core.
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, serverUrl } from '@node-wsgi/core';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: the demo is plain JavaScript without declarations.
import { demo } from '../../examples/demo/index.js';

const CHROMIUM = '/usr/bin/chromium';
let server: Server;
let base: string;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`the browser test needs Debian's chromium at ${CHROMIUM}: npm test installs it (scripts/ensure-chromium.sh)`);
  server = await serve(demo, { port: 0, handleSignals: false });
  base = serverUrl(server);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-quic', '--no-first-run', '--disable-sync'],
  });
  page = await browser.newPage();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
  server?.closeAllConnections();
});

describe('the demo in Chromium', () => {
  it('shows an index page linking every direction', async () => {
    await page.goto(`${base}/`);
    const links = await page.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(links).toEqual(expect.arrayContaining(['/wsgi/', '/express/', '/koa/', '/fastify/', '/inside-express/wsgi/']));
    await page.screenshot({ path: process.env.NODE_WSGI_SCREENSHOT ?? join(tmpdir(), 'node-wsgi-demo-index.png'), fullPage: true });
  });

  it('posts a form into the wrapped Express app, which parses it itself', async () => {
    await page.goto(`${base}/express/`);
    await page.fill('input[name="name"]', 'Grace Hopper');
    await Promise.all([page.waitForURL(`${base}/express/greet`), page.click('button')]);
    expect(await page.textContent('#greeting')).toBe('Hello, Grace Hopper!');
  });

  it('reads back through Koa a cookie that Express set', async () => {
    await page.goto(`${base}/express/cookie`);
    await page.click('text=Read it with Koa');
    await page.waitForURL(`${base}/koa/cookie`);
    expect(await page.textContent('#cookie')).toBe('set-by-express');
  });

  it('shows server-sent events from Fastify as they arrive, before the stream ends', async () => {
    await page.goto(`${base}/fastify/`);
    // The first event is on the page while the stream is still open: it was not buffered whole.
    await page.waitForSelector('#events li');
    expect(await page.locator('#events li').count()).toBeLessThan(5);
    expect(await page.textContent('#status')).toBe('streaming…');
    await page.waitForFunction("document.getElementById('status')?.textContent === 'done'", undefined, { timeout: 10_000 });
    expect(await page.locator('#events li').count()).toBe(5);
  });

  it('serves the node-wsgi app inside an Express host inside the node-wsgi server', async () => {
    await page.goto(`${base}/inside-express/wsgi/`);
    expect(await page.textContent('h1')).toBe('Hello from node-wsgi');
    // environ as the app sees it: mounted twice, once by each side.
    expect(await page.locator('td', { hasText: /^SCRIPT_NAME$/ }).locator('xpath=following-sibling::td').textContent()).toBe('/inside-express/wsgi');
  });
});
