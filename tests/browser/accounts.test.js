// Browser: the real login flow (accounts, issue #15).  A real tale-host with
// `accounts: required`, the real web client from web/, headless Chromium.
// Promises: the password questions turn the input into a password field;
// what is typed there never shows in the story pane or the page, never
// enters the history (ArrowUp), and is in no frame the host sends back; the
// account plays, and after a reload `login` brings the character back where
// it was.  Over WebSocket, and over the EventSource fallback.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { startHost } = require('../lib/harness');
const { accountsConfig } = require('../accounts/lib');
const lib = require('./lib');

// Every frame the page receives, whichever transport carries it, recorded
// before the client sees it: the page's own view of what the host sent.
function recordFrames() {
  window.__taleFrames = [];
  const keep = (ev) => window.__taleFrames.push(String(ev.data));
  const WS = window.WebSocket;
  window.WebSocket = class extends WS {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', keep);
    }
  };
  const ES = window.EventSource;
  window.EventSource = class extends ES {
    constructor(...args) {
      super(...args);
      for (const type of ['text', 'data', 'message']) this.addEventListener(type, keep);
    }
  };
}

// Type a line and wait until the story pane shows `what` in a frame that
// arrived after it.
async function say(page, line, what, timeout = 15000) {
  const before = await page.evaluate(() => window.taleClient.lastSeq);
  await page.fill('#input-cmd', line);
  await page.press('#input-cmd', 'Enter');
  await waitText(page, before, what, timeout);
}

async function waitText(page, before, what, timeout = 15000) {
  await page.waitForFunction(({ before, what }) => {
    for (const f of document.querySelectorAll('#textframe .frame'))
      if (Number(f.dataset.seq) > before && f.textContent.includes(what)) return true;
    return false;
  }, { before, what }, { timeout });
}

// At a password question: the field is a password field, ArrowUp brings no
// history line into it, and the typed password is sent with Enter; then the
// pane shows `next` (or, when null, any new frame).
async function typeSecret(page, password, next) {
  const input = page.locator('#input-cmd');
  await page.waitForFunction(() => window.taleClient.secret === true);
  assert.strictEqual(await input.getAttribute('type'), 'password', 'a password question makes a password field');
  await input.focus();
  await page.keyboard.press('ArrowUp');
  assert.strictEqual(await input.inputValue(), '', 'ArrowUp brings no history line into the password field');
  const before = await page.evaluate(() => window.taleClient.lastSeq);
  await input.fill(password);
  await page.keyboard.press('Enter');
  if (next) await waitText(page, before, next);
  else await page.waitForFunction((b) => window.taleClient.lastSeq > b, before);
  assert.strictEqual(await input.inputValue(), '', 'the field is emptied');
}

// Nowhere on the page, in its history, nor in any frame it received.
async function assertNoSecret(page, password, where) {
  const seen = await page.evaluate(() => ({
    text: document.getElementById('textframe').textContent,
    html: document.documentElement.outerHTML,
    history: window.taleClient.history,
    frames: window.__taleFrames,
  }));
  assert.ok(seen.frames.length > 0, `${where}: frames were recorded`);
  assert.ok(!seen.text.includes(password), `${where}: the password is in the story pane`);
  assert.ok(!seen.html.includes(password), `${where}: the password is in the page`);
  assert.ok(!seen.history.some((h) => h.includes(password)), `${where}: the password is in the history`);
  const leaked = seen.frames.filter((f) => f.includes(password));
  assert.deepStrictEqual(leaked, [], `${where}: the password came back in a frame`);
  return seen;
}

async function loginFlow(transport, name, password) {
  const host = await startHost({ config: accountsConfig(['static', 'ws', 'sse']), timeoutMs: 15000 });
  const browser = await lib.launch();
  const query = transport === 'eventsource' ? '?transport=eventsource' : '';
  try {
    const page = await browser.context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await page.addInitScript(recordFrames);
    await page.goto(`${host.url}/tale/story${query}`);
    await lib.waitConnected(page, transport);
    await waitText(page, 0, 'Type create');
    const input = page.locator('#input-cmd');
    assert.strictEqual(await input.getAttribute('type'), 'text');

    await say(page, 'create', 'Choose a name');
    await say(page, name, 'Choose a password');
    await typeSecret(page, password, 'same password again');
    await typeSecret(page, password, null);
    assert.strictEqual(await input.getAttribute('type'), 'text', 'the field is a text field again');
    await page.waitForFunction(() => document.getElementById('player-location').textContent.trim() === 'The Jetty');
    const created = await assertNoSecret(page, password, 'after create');
    assert.ok(created.frames.some((f) => f.includes('Choose a password')), 'the recorder saw the dialogue\'s frames');
    const history = await page.evaluate(() => window.taleClient.history);
    assert.deepStrictEqual(history, ['create', name], 'only the non-secret lines are in the history');

    // play: the history works again, and the character moves
    await lib.play(page, 'north');
    await page.waitForFunction(() => document.getElementById('player-location').textContent.trim() === 'The Harbour');
    await input.focus();
    await page.keyboard.press('ArrowUp');
    assert.strictEqual(await input.inputValue(), 'north');
    await page.keyboard.press('ArrowUp');
    assert.strictEqual(await input.inputValue(), name, 'ArrowUp skips the passwords');
    await input.fill('');
    await lib.screenshot(page, `accounts-${transport}-playing.png`);

    // a reload keeps the cookie, which is bound to the account: the same
    // seat, still logged in, where it was
    await page.reload();
    await lib.waitConnected(page, transport);
    await page.waitForFunction(() => document.getElementById('player-location').textContent.trim() === 'The Harbour',
      null, { timeout: 10000 });
    await say(page, 'login', 'logged in as');
    // quit ends the seat; the next page is asked to log in, and lands where it left
    await say(page, 'quit', '');
    await page.goto(`${host.url}/tale/story${query}`);
    await lib.waitConnected(page, transport);
    await waitText(page, 0, 'Type create');
    await say(page, 'login', 'account name');
    await say(page, name, 'Password');
    await typeSecret(page, password, null);
    await page.waitForFunction(() => document.getElementById('player-location').textContent.trim() === 'The Harbour',
      null, { timeout: 10000 });
    await lib.play(page, 'look');
    await assertNoSecret(page, password, 'after login');
    await lib.screenshot(page, `accounts-${transport}-back.png`);
    assert.deepStrictEqual(problems.filter((p) => !/WebSocket/.test(p)), []);
    await page.close();
    const stopped = await host.stop();
    assert.strictEqual(stopped.code, 0, 'the host stops cleanly');
    assert.ok(!host.stderr().includes(password), 'the password is in the log');
  } finally {
    await browser.close();
    await host.stop();
  }
}

test('accounts in Chromium over WebSocket: create, play, reload, login where they left', async () => {
  await loginFlow('websocket', 'Ysabeau', 'sesame Tr0ub4dor ws');
});

test('accounts in Chromium over EventSource: create, play, reload, login where they left', async () => {
  await loginFlow('eventsource', 'Perrine', 'sesame Tr0ub4dor sse');
});
