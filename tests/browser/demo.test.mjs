// Browser test: a pre-sales engineer sets up a demo environment with probes, plans a demo with
// the script editor, checks it, prints the talk track, and records the promises after the demo.
// The environment is the cunjin server itself (its /healthz passes, an unknown page fails), so
// the test needs nothing else. Same environment variables as promise.test.mjs.

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
  // On a database shared with the other browser test (run one after the other), the seed and
  // the administrator are already there; everything this test creates has its own name.
  const db = join(dir, 'cunjin.db');
  server = spawn(bin, ['serve', '--demo', '--listen', '127.0.0.1:0'], {
    env: { ...process.env, CUNJIN_DB: process.env.CUNJIN_TEST_DB_URL ?? db, CUNJIN_ADMIN_PASSWORD: password, CUNJIN_LOG: 'warn' },
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

async function pickOption(page, select, text) {
  const value = await page.locator(`${select} option`, { hasText: text }).first().getAttribute('value');
  assert.ok(value, `no option "${text}" in ${select}`);
  await page.selectOption(select, value);
}

test('probe the environment, check the demo, print the talk track, record the promises', async () => {
  const context = await browser.newContext({ locale: 'zh-CN' });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.fill('#email', 'admin@localhost');
  await page.fill('#password', password);
  await page.click('#login-submit');
  await page.waitForURL(`${base}/`);

  // An environment with a token, and two probes: one that passes, one that fails.
  await page.click('#nav-demos');
  await page.click('#to-environments');
  const envName = `浏览器测试环境 ${Date.now()}`;
  await page.fill('#env-name', envName);
  await page.fill('#env-base-url', base);
  await page.fill('input[name=header_name]', 'X-Demo-Token');
  await page.fill('input[name=header_value]', 'browser-secret-token');
  await page.click('#env-submit');
  await page.waitForURL(/\/environments\/\d+$/);
  assert.doesNotMatch(await page.content(), /browser-secret-token/, 'the token is never shown');
  await pickOption(page, '#probe-feature', '住院医生站/病历书写/结构化模板');
  await page.fill('#probe-path', '/healthz');
  await page.fill('input[name=expect_body]', 'ok');
  await page.click('#probe-submit');
  await page.waitForURL(/\/environments\/\d+$/);
  await pickOption(page, '#probe-feature', '住院医生站/医嘱/医嘱闭环');
  await page.fill('#probe-path', '/his/no-such-page');
  await page.click('#probe-submit');
  await page.waitForURL(/\/environments\/\d+$/);
  await page.click('#run-now');
  await page.waitForURL(/done=1/);
  const probes = await page.locator('#probes').innerText();
  assert.match(probes, /通过/);
  assert.match(probes, /期望状态 200，实际 404/);

  // A demo through the script editor.
  await page.click('#nav-demos');
  await page.click('#new-demo');
  await page.waitForURL(/\/demos\/new/);
  await pickOption(page, '#demo-environment', envName);
  await page.fill('#demo-starts', '2030-05-01T09:30');
  await pickOption(page, '#item0-feature', '住院医生站/病历书写/结构化模板');
  await page.check('#item0-must');
  await pickOption(page, '#item1-feature', '住院医生站/医嘱/医嘱闭环');
  await page.check('#item1-must');
  await page.fill('#item2-text', '这个肯定没问题：全院一张床');
  await page.click('#demo-submit');
  await page.waitForURL(/\/demos\/\d+$/);
  await page.click('#check-now');
  await page.waitForURL(/\/demos\/\d+$/);
  const verdict = await page.locator('#demo-verdict').innerText();
  assert.match(verdict, /可以演示/, 'live, and fallback with a recording');
  assert.match(verdict, /33%/);

  // The talk track, as printed: no navigation, the recording link spelled out.
  await page.click('#to-talk-track');
  await page.waitForURL(/talk-track/);
  const track = await page.locator('#talk-track').innerText();
  for (const want of ['现场演示', '备用录屏', '用录屏或截图讲', '口头承诺', '不承诺日期']) {
    assert.ok(track.includes(want), `${want} in the talk track`);
  }
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('header.top').isVisible(), false, 'no navigation on paper');
  await page.emulateMedia({ media: 'screen' });

  // After the demo: two of the three items were promised.
  await page.goBack();
  await page.waitForURL(/\/demos\/\d+$/);
  const rows = page.locator('#script tbody tr');
  await rows.nth(0).locator('input[type=checkbox]').check();
  await rows.nth(2).locator('input[type=checkbox]').check();
  await page.click('#record-promises');
  await page.waitForURL(/\/customers\/\d+\?recorded=1/);
  const commitments = await page.locator('#commitments').innerText();
  assert.match(commitments, /全院一张床/);
  assert.match(commitments, /结构化病历模板/);
  await context.close();
});
