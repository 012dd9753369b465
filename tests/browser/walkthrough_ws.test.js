// Browser 1: the default plugins.  The page connects over WebSocket and the
// bundled story is played to its ending by typing the walkthrough.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { startHost, configWith } = require('../lib/harness');
const lib = require('./lib');

test('default config: WebSocket, the walkthrough to the ending, side panel and map', async () => {
  const host = await startHost({ config: configWith(['static', 'ws', 'sse']) });
  const browser = await lib.launch();
  try {
    const { page, problems } = await lib.openPage(browser, `${host.url}/tale/story`);
    await lib.waitConnected(page, 'websocket');
    assert.strictEqual(await page.getAttribute('body', 'data-transport'), 'websocket');
    assert.match(await page.textContent('#status'), /Connected via WebSocket/);
    assert.strictEqual(await page.isEnabled('#input-cmd'), true);
    await lib.assertSidePanelReady(assert, page);

    const seen = await lib.playWalkthrough(assert, page);
    assert.ok(seen.locations.size >= 6, `the side panel followed the player (${[...seen.locations].join(', ')})`);
    assert.ok(seen.images.size >= 4, 'location pictures changed along the way');
    assert.ok(seen.npcs.size >= 2, `people were listed (${[...seen.npcs].join(', ')})`);
    assert.ok(seen.map, 'the map arrived as a data frame into #map-image');
    assert.strictEqual(await page.evaluate(() => window.taleClient.transport), 'websocket', 'still on WebSocket');

    await lib.screenshot(page, 'walkthrough-websocket.png');
    await lib.assertSeqsExactlyOnce(assert, page);
    assert.deepStrictEqual(problems, [], 'no page errors or CSP violations');
  } finally {
    await browser.close();
    await host.stop();
  }
});

test('the game page works at 360 px wide', async () => {
  const host = await startHost({ config: configWith(['static', 'ws', 'sse']) });
  const browser = await lib.launch();
  try {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 360, height: 740 });
    await page.goto(`${host.url}/tale/story`);
    await lib.waitConnected(page, 'websocket');
    await lib.play(page, 'look');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling at 360 px (overflow ${overflow}px)`);
    for (const id of ['#input-cmd', '#button-submit', '#button-autocomplete', '#button-quit']) {
      const box = await page.locator(id).boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 360, `${id} is on screen`);
    }
    await lib.screenshot(page, 'story-360px.png');
  } finally {
    await browser.close();
    await host.stop();
  }
});
