// Browser test: a person logs in, records a promise made in a demo, and sees the gap change.
// Drives the real `cunjin serve --demo` in Debian's headless Chromium through playwright-core.
//
// Environment: CUNJIN_BIN (default ../../target/debug/cunjin), CUNJIN_TEST_DB_URL (default: a
// fresh SQLite file), CHROMIUM (default /usr/bin/chromium).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const bin = process.env.CUNJIN_BIN ?? join(here, '..', '..', 'target', 'debug', 'cunjin');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const password = 'browser-pass-1';

let server, base, browser, dir;

before(async () => {
  assert.ok(existsSync(bin), `cunjin binary not found at ${bin}: build it first (cargo build)`);
  assert.ok(existsSync(chromiumPath), `Chromium not found at ${chromiumPath}: apt-get install chromium`);
  dir = mkdtempSync(join(tmpdir(), 'cunjin-browser-'));
  const db = process.env.CUNJIN_TEST_DB_URL ?? join(dir, 'cunjin.db');
  server = spawn(bin, ['serve', '--demo', '--listen', '127.0.0.1:0'], {
    env: { ...process.env, CUNJIN_DB: db, CUNJIN_ADMIN_PASSWORD: password, CUNJIN_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('cunjin did not start within 30 s')), 30_000);
    server.on('exit', (code) => reject(new Error(`cunjin exited with ${code}`)));
    createInterface({ input: server.stdout }).on('line', (line) => {
      const m = line.match(/running at (http:\/\/[^/\s]+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
  });
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Reads "N 尺 M 寸" from an element. */
async function gapOf(page, selector) {
  const text = await page.locator(selector).innerText();
  const m = text.match(/(\d+)\s*尺\s*(\d+)\s*寸/);
  assert.ok(m, `no gap in "${text}"`);
  return { chi: Number(m[1]), cun: Number(m[2]) };
}

test('log in, record a promise, see the gap change', async () => {
  const context = await browser.newContext({ locale: 'zh-CN' });
  const page = await context.newPage();

  await page.goto(`${base}/`);
  assert.match(page.url(), /\/login\?next=/, 'the dashboard asks for a login');
  await page.fill('#email', 'admin@localhost');
  await page.fill('#password', 'wrong-password');
  await page.click('#login-submit');
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').innerText(), /密码错误/);

  await page.fill('#password', password);
  await page.click('#login-submit');
  await page.waitForURL(`${base}/`);
  const before = await gapOf(page, '#portfolio-gap');
  assert.ok(before.chi > 0 && before.cun > 0, 'the sample workspace has a gap');

  await page.click('#nav-promise');
  await page.waitForURL(/\/promises\/new/);
  const customer = await page.locator('#customer_id option').nth(1).innerText();
  await page.selectOption('#customer_id', { label: customer });
  await page.fill('#feature_title', '这个肯定没问题：门诊叫号屏显示候诊人数');
  await page.fill('#promised_by', '张伟(售前)');
  await page.check('#critical');
  await page.fill('#criteria', '叫号屏实时刷新\n显示预计等待时间');
  await page.click('#promise-submit');

  await page.waitForURL(/\/customers\/\d+\?recorded=\d+/);
  await page.getByRole('status').waitFor();
  const row = page.locator('#commitments tr', { hasText: '门诊叫号屏显示候诊人数' });
  assert.equal(await row.count(), 1, 'the promise is on the customer page');
  assert.match(await row.innerText(), /叫号屏实时刷新/);
  assert.match(await row.innerText(), /4 尺 3 寸/, 'a bare promise with two criteria: 4 尺 3 寸');

  await page.click('a[href="/"]');
  const after = await gapOf(page, '#portfolio-gap');
  assert.deepEqual(after, { chi: before.chi + 4, cun: before.cun + 3 }, 'the portfolio gap grew by the promise');

  await page.click('#lang-switch');
  await page.waitForLoadState();
  assert.match(await page.locator('h1').first().innerText(), /Portfolio gap/);
  await context.close();
});

test('triage a request with the keyboard; the requester reads the decision', async () => {
  const context = await browser.newContext({ locale: 'zh-CN' });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.fill('#email', 'admin@localhost');
  await page.fill('#password', password);
  await page.click('#login-submit');
  await page.waitForURL(`${base}/`);

  await page.click('#nav-requests');
  await page.waitForURL(/\/requests/);
  await page.goto(`${base}/requests?decision=new`);
  const rows = page.locator('#inbox tbody tr');
  assert.ok(await rows.count() >= 2, 'the sample inbox has new requests');
  const second = await rows.nth(1).getAttribute('data-href');
  await page.keyboard.press('j');
  await page.waitForURL((url) => url.href.endsWith(second));
  const text = await page.locator('#request-detail .request-text').innerText();

  await page.keyboard.press('x');
  assert.equal(await page.locator('#decision').inputValue(), 'declined');
  await page.keyboard.type('与现有功能重复，请使用检验申请单合并打印');
  await page.click('#decide');
  await page.waitForURL(/decided=1/);
  const statusUrl = await page.locator('#status-link').getAttribute('href');
  await context.close();

  const requester = await browser.newContext({ locale: 'en-US' });
  const status = await requester.newPage();
  await status.goto(`${base}${statusUrl}`);
  assert.equal(await status.locator('#request-status .request-text').innerText(), text);
  assert.equal(await status.locator('#decision').innerText(), 'Declined');
  assert.match(await status.locator('#reason').innerText(), /请使用检验申请单合并打印/);
  assert.equal(await status.locator('nav').count(), 0, 'no navigation into the workspace');
  await requester.close();
});
