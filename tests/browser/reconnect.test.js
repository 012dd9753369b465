// Browser 3: mid-game the server's connection dies with a reply in flight.
// A proxy between browser and host holds the host's bytes, then cuts every
// connection.  The page must show it is disconnected (input disabled),
// reconnect by itself, resume after its last seq and show the lost reply:
// every frame exactly once, none missing.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { startHost, configWith } = require('../lib/harness');
const lib = require('./lib');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function dropAndResume(plugins, transport) {
  const host = await startHost({ config: configWith(plugins) });
  const proxy = await lib.startProxy(host.port);
  const browser = await lib.launch();
  try {
    const { page, problems } = await lib.openPage(browser, `${proxy.url}/tale/story`);
    await lib.waitConnected(page, transport);
    const cmds = lib.walkthrough();
    for (const cmd of cmds.slice(0, 3)) await lib.play(page, cmd);

    proxy.hold();
    const before = await page.evaluate(() => window.taleClient.lastSeq);
    const lost = cmds[3];
    await page.fill('#input-cmd', lost);
    await page.press('#input-cmd', 'Enter');
    await sleep(600); // the host answers into the void
    assert.strictEqual(await page.evaluate(() => window.taleClient.lastSeq), before, 'the reply was held back');

    assert.ok(proxy.streams() >= 1, "the page streams through the proxy");
    proxy.dropAll();
    await page.waitForFunction(() => window.taleClient.connection === 'disconnected', null, { timeout: 10000 });
    assert.strictEqual(await page.isDisabled('#input-cmd'), true, 'input disabled while disconnected');
    assert.match(await page.textContent('#status'), /Disconnected/);
    assert.strictEqual(await page.getAttribute('body', 'data-connection'), 'disconnected');

    await lib.waitConnected(page, transport, 20000);
    await lib.waitEcho(page, before, lost, 10000);
    assert.ok(await page.evaluate(() => window.taleClient.reconnects) >= 1 || transport === 'eventsource');
    assert.strictEqual(await page.isEnabled('#input-cmd'), true, 'input enabled again');

    for (const cmd of cmds.slice(4, 7)) await lib.play(page, cmd);
    const echoes = await page.evaluate((c) => Array.from(document.querySelectorAll('#textframe .txt-userinput'))
      .filter((e) => e.textContent.trim() === c).length, lost);
    assert.strictEqual(echoes, 1, 'the lost reply is shown exactly once');
    await lib.assertSeqsExactlyOnce(assert, page);
    await lib.screenshot(page, `reconnect-${transport}.png`);
    assert.deepStrictEqual(problems.filter((p) => !/WebSocket|ERR_/.test(p)), []);
  } finally {
    await browser.close();
    await proxy.close();
    await host.stop();
  }
}

test('WebSocket: dropped mid-game, reconnects with ?resume and loses nothing', () => dropAndResume(['static', 'ws', 'sse'], 'websocket'));

test('EventSource: dropped mid-game, resumes by Last-Event-ID and loses nothing', () => dropAndResume(['static', 'sse'], 'eventsource'));

test('WebSocket: the host restarts; the page reconnects and follows the new run', async () => {
  const fs = require('fs');
  const os = require('os');
  const path = require('path');
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-restart-'));
  const config = configWith(['static', 'ws', 'sse'])
    .replace(/^data_dir: .*$/m, `data_dir: ${data}`).replace(/^autosave: .*$/m, 'autosave: true');
  let host = await startHost({ config });
  const proxy = await lib.startProxy(host.port);
  const browser = await lib.launch();
  try {
    const { page, problems } = await lib.openPage(browser, `${proxy.url}/tale/story`);
    await lib.waitConnected(page, 'websocket');
    for (const cmd of lib.walkthrough().slice(0, 4)) await lib.play(page, cmd);
    assert.ok(await page.evaluate(() => window.taleClient.lastSeq) > 3);

    await host.stop();
    await page.waitForFunction(() => window.taleClient.connection === 'disconnected', null, { timeout: 10000 });
    host = await startHost({ config });
    proxy.retarget(host.port);
    await lib.waitConnected(page, 'websocket', 20000);
    await page.waitForFunction(() => window.taleClient.restarts === 1, null, { timeout: 10000 });
    assert.match(await page.textContent('#textframe'), /The server was restarted/);
    await lib.play(page, 'look'); // the new run's output is shown, not filtered out as old
    const seqs = await page.evaluate(() => window.taleClient.seqs);
    seqs.forEach((s, i) => assert.strictEqual(s, seqs[0] + i, 'the new run is shown without gaps'));
    assert.deepStrictEqual(problems.filter((p) => !/WebSocket|ERR_/.test(p)), []);
  } finally {
    await browser.close();
    await proxy.close();
    await host.stop();
    fs.rmSync(data, { recursive: true, force: true });
  }
});
