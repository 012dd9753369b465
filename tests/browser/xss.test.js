// Browser 5: markup typed by a player or written into a story shows as text.
// Nothing of it becomes an element and no script runs.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startHost, configWith, SRC } = require('../lib/harness');
const lib = require('./lib');

const PLAYER = '<img src=x onerror=window.__xss=1><script>window.__xss=2</script>';
const STORY = '<img src=x onerror="window.__xss=3"> <script>window.__xss=4</script> <b>bold?</b>';

// A copy of the bundled story whose player description carries markup.
function storyWithMarkup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-xss-'));
  fs.cpSync(path.join(SRC, 'conf', 'stories', 'lighthouse'), dir, { recursive: true });
  const file = path.join(dir, 'story.yaml');
  const text = fs.readFileSync(file, 'utf8');
  const out = text.replace(/^player:\n((?:  .*\n)*?)  description: \|\n/m,
    (m, pre) => `player:\n${pre}  description: |\n    ${STORY}\n\n`);
  assert.notStrictEqual(out, text, 'story.yaml has a player description to extend');
  fs.writeFileSync(file, out);
  return dir;
}

for (const [plugins, transport] of [[['static', 'ws', 'sse'], 'websocket'], [['static', 'sse'], 'eventsource']]) {
  test(`${transport}: player and story markup shows as text and runs nothing`, async () => {
    const story = storyWithMarkup();
    const host = await startHost({ config: configWith(plugins).replace(/^story: .*$/m, `story: ${story}`) });
    const browser = await lib.launch();
    try {
      const { page, problems } = await lib.openPage(browser, `${host.url}/tale/story`);
      await lib.waitConnected(page, transport);
      const said = `say ${PLAYER}`;
      await lib.play(page, said);
      await lib.play(page, 'examine me');
      await page.waitForTimeout(500); // give any injected handler the chance to fire
      const result = await page.evaluate(() => ({
        xss: window.__xss,
        imgs: document.querySelectorAll('#textframe img').length,
        scripts: document.querySelectorAll('#textframe script').length,
        bold: document.querySelectorAll('#textframe b').length,
        text: document.getElementById('textframe').textContent,
      }));
      assert.strictEqual(result.xss, undefined, 'no injected script ran');
      assert.strictEqual(result.imgs, 0, 'no <img> element was created');
      assert.strictEqual(result.scripts, 0, 'no <script> element was created');
      assert.strictEqual(result.bold, 0, 'no <b> element was created');
      assert.ok(result.text.includes(PLAYER), 'the player text is shown literally');
      assert.ok(result.text.includes('<img src=x onerror="window.__xss=3">'), 'the story text is shown literally');
      assert.deepStrictEqual(problems.filter((p) => !/WebSocket/.test(p)), []);
    } finally {
      await browser.close();
      await host.stop();
      fs.rmSync(story, { recursive: true, force: true });
    }
  });
}
