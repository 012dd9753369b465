// Browser 2: no ws plugin.  The WebSocket never opens, the page falls back
// to EventSource + POST, says so, and the walkthrough plays the same.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { startHost, configWith } = require('../lib/harness');
const lib = require('./lib');

test('config without ws: EventSource fallback plays the walkthrough to the ending', async () => {
  const host = await startHost({ config: configWith(['static', 'sse']) });
  const browser = await lib.launch();
  try {
    const { page, problems } = await lib.openPage(browser, `${host.url}/tale/story`);
    await lib.waitConnected(page, 'eventsource');
    assert.strictEqual(await page.getAttribute('body', 'data-transport'), 'eventsource');
    assert.match(await page.textContent('#status'), /Connected via EventSource/);
    await lib.assertSidePanelReady(assert, page);

    const seen = await lib.playWalkthrough(assert, page);
    assert.ok(seen.locations.size >= 6, `the side panel followed the player (${[...seen.locations].join(', ')})`);
    assert.ok(seen.map, 'the map arrived over SSE');

    await lib.screenshot(page, 'walkthrough-eventsource.png');
    await lib.assertSeqsExactlyOnce(assert, page);
    // the WebSocket attempt is the only expected failure; nothing else may break
    assert.deepStrictEqual(problems.filter((p) => !/WebSocket/.test(p)), []);
  } finally {
    await browser.close();
    await host.stop();
  }
});
