// A web root in LlamaTale's style (its ids, relative URLs, placeholders and
// inline handlers) works against tale-host unchanged: only the CSP has to be
// relaxed for its inline handlers, which the static plugin's `csp` key does.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('path');
const { startHost, configWith } = require('../lib/harness');
const lib = require('./lib');

const RELAXED = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; " +
  "script-src 'self' 'unsafe-inline'; connect-src 'self'";

test('a LlamaTale-style web folder plays over SSE with a relaxed CSP', async () => {
  const webRoot = path.join(__dirname, 'fixtures', 'llamatale-style');
  const host = await startHost({
    config: configWith(['static', 'ws', 'sse'], { pluginConfig: { static: { web_root: webRoot, csp: RELAXED } } }),
  });
  const browser = await lib.launch();
  try {
    const { page, problems } = await lib.openPage(browser, `${host.url}/tale/`);
    assert.match(await page.title(), /Lighthouse Keeper's Daughter - welcome/);
    await Promise.all([page.waitForURL(/\/tale\/story$/), page.click('text=Start your adventure.')]);
    await page.waitForFunction(() => document.getElementById('textframe').textContent.includes('Exits:'), null,
      { timeout: 10000 });
    const where = (await page.textContent('#player-location')).trim();
    assert.ok(where.length > 0 && where !== '...', 'the location arrived');
    await page.waitForFunction(() => document.getElementById('location-image').naturalWidth > 0, null, { timeout: 5000 });

    await page.fill('#input-cmd', 'north');
    await page.click('input[type=submit] >> nth=0');
    await page.waitForFunction((w) => document.getElementById('player-location').textContent.trim() !== w, where,
      { timeout: 10000 });
    await page.fill('#input-cmd', 'exa');
    await page.click('#button-autocomplete');
    await page.waitForFunction(() => /Suggestions/.test(document.getElementById('textframe').textContent), null,
      { timeout: 10000 });
    assert.deepStrictEqual(problems, []);
  } finally {
    await browser.close();
    await host.stop();
  }
});
