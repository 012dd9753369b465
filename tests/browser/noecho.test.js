// Browser: the `noecho` special (accounts, issue #15).  The page and its
// Content-Security-Policy come from a real tale-host; the WebSocket is
// answered in the browser's network stack by a mock that speaks the protocol
// (docs/PROTOCOL.md) the way a host's login dialogue does, so the client is
// tested unchanged and without a host-side login.  Promises: after a noecho
// frame the input is a password field; what is typed there is sent once as a
// command, never shown in the story pane, never kept in the history, never
// sent for completion, never replaced by a history line; then the field is a
// text field again.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { startHost, configWith } = require('../lib/harness');
const lib = require('./lib');

const PASSWORD = 'correct-horse-42';

// The login dialogue's side of the socket: seq-numbered text frames.
function mockLogin(ws, received) {
  let seq = 0;
  const send = (html, special = []) => ws.send(JSON.stringify({ type: 'text', text: html, special, seq: ++seq }));
  ws.send(JSON.stringify({ type: 'connected', resume: false }));
  send('<p>Welcome. Type your name, or create.</p>\n');
  ws.onMessage((message) => {
    const msg = JSON.parse(String(message));
    received.push(msg);
    if (msg.autocomplete) {
      send('<p>No matching commands.</p>\n');
      return;
    }
    if (received.filter((m) => !m.autocomplete).length === 1) {
      // the name is echoed like any command; the password prompt asks for noecho
      send(`<p><span class='txt-userinput'>${msg.cmd}</span></p>\n<p>Password:</p>\n`, ['noecho']);
    } else if (received.filter((m) => !m.autocomplete).length === 2) {
      send('<p>Welcome back, Wilma.</p>\n'); // a password line is never echoed
    } else {
      send(`<p><span class='txt-userinput'>${msg.cmd}</span></p>\n<p>You wait.</p>\n`);
    }
  });
}

test('websocket: a noecho prompt turns the input into a password field and back', async () => {
  const host = await startHost({ config: configWith(['static', 'ws', 'sse']) });
  const browser = await lib.launch();
  try {
    const received = [];
    const page = await browser.context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await page.routeWebSocket(/\/ws(\?|$)/, (ws) => mockLogin(ws, received));
    await page.goto(`${host.url}/tale/story`);
    await lib.waitConnected(page, 'websocket');
    const input = page.locator('#input-cmd');
    assert.strictEqual(await input.getAttribute('type'), 'text');

    await lib.play(page, 'wilma');
    await page.waitForFunction(() => window.taleClient.secret === true);
    assert.strictEqual(await input.getAttribute('type'), 'password', 'the password prompt makes a password field');
    assert.strictEqual(await input.evaluate((e) => e.form.classList.contains('secret')), true);

    // the history stays out of a password field
    await input.focus();
    await page.keyboard.press('ArrowUp');
    assert.strictEqual(await input.inputValue(), '', 'ArrowUp brings no history line into the password field');

    await input.fill(PASSWORD);
    await page.keyboard.press('Tab'); // completion would send the password on its own
    await page.waitForTimeout(300);
    assert.strictEqual(received.filter((m) => m.autocomplete).length, 0, 'nothing is sent for completion');
    await lib.screenshot(page, 'noecho-password.png');

    const before = await page.evaluate(() => window.taleClient.lastSeq);
    await page.keyboard.press('Enter');
    await page.waitForFunction((b) => window.taleClient.lastSeq > b, before);
    assert.deepStrictEqual(received.map((m) => m.cmd), ['wilma', PASSWORD], 'the password is sent once, as a command');
    assert.strictEqual(await input.getAttribute('type'), 'text', 'the field is a text field again');
    assert.strictEqual(await page.evaluate(() => window.taleClient.secret), false);
    assert.strictEqual(await input.inputValue(), '', 'the field is emptied');
    const state = await page.evaluate(() => ({
      history: window.taleClient.history,
      text: document.getElementById('textframe').textContent,
      placeholder: document.getElementById('input-cmd').placeholder,
    }));
    assert.deepStrictEqual(state.history, ['wilma'], 'the password is not in the history');
    assert.ok(!state.text.includes(PASSWORD), 'the password is not in the story pane');
    assert.ok(state.text.includes('Welcome back, Wilma.'));
    assert.strictEqual(state.placeholder, 'What do you do?', 'the placeholder is back');

    // and the history works again for ordinary commands
    await lib.play(page, 'wait');
    await input.focus();
    await page.keyboard.press('ArrowUp');
    assert.strictEqual(await input.inputValue(), 'wait');
    await page.keyboard.press('ArrowUp');
    assert.strictEqual(await input.inputValue(), 'wilma');
    assert.deepStrictEqual(problems, []);
  } finally {
    await browser.close();
    await host.stop();
  }
});
