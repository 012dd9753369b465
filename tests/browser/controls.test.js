// Browser 4: the controls a player uses besides typing - Tab completion (key
// and button), history with Up/Down, clickable exits and people, keyboard
// only play, and quitting with a confirmation that really ends the game.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { startHost, configWith } = require('../lib/harness');
const lib = require('./lib');

for (const [plugins, transport] of [[['static', 'ws', 'sse'], 'websocket'], [['static', 'sse'], 'eventsource']]) {
  test(`${transport}: Tab and the button complete, Up/Down recall, exits and people are clickable`, async () => {
    const host = await startHost({ config: configWith(plugins) });
    const browser = await lib.launch();
    try {
      const { page, problems } = await lib.openPage(browser, `${host.url}/tale/story`);
      await lib.waitConnected(page, transport);
      await lib.assertSidePanelReady(assert, page);

      // every control has an accessible name; new text is announced
      const unnamed = await page.evaluate(() => Array.from(document.querySelectorAll('input, button, select, textarea'))
        .filter((c) => !(c.labels && c.labels.length) && !c.getAttribute('aria-label') && !c.textContent.trim())
        .map((c) => c.outerHTML));
      assert.deepStrictEqual(unnamed, [], 'controls without a name');
      assert.strictEqual(await page.getAttribute('#textframe', 'aria-live'), 'polite');
      assert.strictEqual(await page.getAttribute('#status', 'role'), 'status');

      // Tab completes a unique prefix in place
      await page.focus('#input-cmd');
      await page.keyboard.type('exam');
      await page.keyboard.press('Tab');
      await page.waitForFunction(() => document.getElementById('input-cmd').value.startsWith('examine'), null,
        { timeout: 5000 });
      assert.strictEqual(await page.evaluate(() => document.activeElement.id), 'input-cmd', 'focus stays in the input');
      // and so does the button
      await page.fill('#input-cmd', 'invent');
      await page.click('#button-autocomplete');
      await page.waitForFunction(() => document.getElementById('input-cmd').value.startsWith('inventory'), null,
        { timeout: 5000 });

      // history: Enter sends; Up and Down walk back and forth
      await page.fill('#input-cmd', '');
      for (const cmd of ['look', 'inventory', 'exits']) await lib.play(page, cmd);
      await page.keyboard.press('ArrowUp');
      assert.strictEqual(await page.inputValue('#input-cmd'), 'exits');
      await page.keyboard.press('ArrowUp');
      await page.keyboard.press('ArrowUp');
      assert.strictEqual(await page.inputValue('#input-cmd'), 'look');
      await page.keyboard.press('ArrowDown');
      assert.strictEqual(await page.inputValue('#input-cmd'), 'inventory');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowDown');
      assert.strictEqual(await page.inputValue('#input-cmd'), '', 'past the newest: the empty draft');

      // a person in the side panel: clicking examines them
      const npc = page.locator('#npcs-in-location button').first();
      if (await npc.count() > 0) {
        const name = await npc.textContent();
        const before = await page.evaluate(() => window.taleClient.lastSeq);
        await npc.click();
        await lib.waitEcho(page, before, `examine ${name}`);
      }
      // an exit: clicking walks there
      const from = (await page.textContent('#player-location')).trim();
      const exit = page.locator('#exits-in-location button').first();
      const dir = await exit.textContent();
      const before = await page.evaluate(() => window.taleClient.lastSeq);
      await exit.click();
      await lib.waitEcho(page, before, `go ${dir}`);
      await page.waitForFunction((f) => document.getElementById('player-location').textContent.trim() !== f, from,
        { timeout: 5000 });

      // keyboard only: on (re)load the command line has the focus; Tab on an
      // empty line moves on instead of trapping focus, Shift+Tab comes back
      await page.reload();
      await lib.waitConnected(page, transport);
      assert.strictEqual(await page.evaluate(() => document.activeElement.id), 'input-cmd', 'focused when connected');
      await page.keyboard.press('Tab');
      assert.strictEqual(await page.evaluate(() => document.activeElement.id), 'button-submit', 'Tab moves on');
      await page.keyboard.press('Shift+Tab');
      assert.strictEqual(await page.evaluate(() => document.activeElement.id), 'input-cmd', 'Shift+Tab comes back');
      const lastBefore = await page.evaluate(() => window.taleClient.lastSeq);
      await page.keyboard.type('look');
      await page.keyboard.press('Enter');
      await lib.waitEcho(page, lastBefore, 'look');
      assert.deepStrictEqual(problems.filter((p) => !/WebSocket/.test(p)), []);
    } finally {
      await browser.close();
      await host.stop();
    }
  });
}

test('quit asks first; cancelling keeps playing, confirming ends the game', async () => {
  const host = await startHost({ config: configWith(['static', 'ws', 'sse']) });
  const browser = await lib.launch();
  try {
    const { page } = await lib.openPage(browser, `${host.url}/tale/story`);
    await lib.waitConnected(page, 'websocket');
    await lib.play(page, 'look');

    let asked = 0;
    page.once('dialog', (d) => { asked++; d.dismiss(); });
    await page.click('#button-quit');
    await page.waitForTimeout(300);
    assert.strictEqual(asked, 1, 'a confirmation was asked');
    assert.match(page.url(), /\/tale\/story$/, 'cancel stays on the game');
    assert.strictEqual(await page.evaluate(() => window.taleClient.connection), 'connected');
    assert.doesNotMatch(host.stderr(), /the player quit/);

    page.once('dialog', (d) => { asked++; d.accept(); });
    await Promise.all([page.waitForURL(/\/tale\/quit$/), page.click('#button-quit')]);
    assert.strictEqual(asked, 2);
    assert.match(await page.textContent('h1'), /Goodbye/);
    await page.waitForFunction(() => true);
    const deadline = Date.now() + 5000;
    while (!/the player quit; the game is over/.test(host.stderr()) && Date.now() < deadline) await page.waitForTimeout(100);
    assert.match(host.stderr(), /the player quit; the game is over/, 'the host ended the game');
  } finally {
    await browser.close();
    await host.stop();
  }
});

for (const [plugins, transport] of [[['static', 'ws', 'sse'], 'websocket'], [['static', 'sse'], 'eventsource']]) {
  test(`${transport}: a second window takes the seat; the first says so and stays quiet`, async () => {
    const host = await startHost({ config: configWith(plugins) });
    const browser = await lib.launch();
    try {
      const first = (await lib.openPage(browser, `${host.url}/tale/story`)).page;
      await lib.waitConnected(first, transport);
      await lib.play(first, 'look');
      const second = (await lib.openPage(browser, `${host.url}/tale/story`)).page;
      await lib.waitConnected(second, transport);
      await first.waitForFunction(() => window.taleClient.connection === 'ended', null, { timeout: 10000 });
      assert.match(await first.textContent('#status'), /taken over by another window/);
      assert.strictEqual(await first.isDisabled('#input-cmd'), true);
      await first.waitForTimeout(2500); // no reconnect loop snatching the seat back
      assert.strictEqual(await first.evaluate(() => window.taleClient.connection), 'ended');
      assert.strictEqual(await second.evaluate(() => window.taleClient.connection), 'connected');
      await lib.play(second, 'inventory');
      // the special "clear" empties the text pane
      await second.fill('#input-cmd', '@cls');
      await second.press('#input-cmd', 'Enter');
      await second.waitForFunction(() => !document.getElementById('textframe').textContent.includes('inventory'), null,
        { timeout: 5000 });
      await lib.play(second, 'look');
    } finally {
      await browser.close();
      await host.stop();
    }
  });
}
