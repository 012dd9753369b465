// datasafety.test.js - kill -9 the host 200 times at random moments while the
// player walks about and saves in a tight loop.  After every kill the save in
// data_dir is either absent (no save ever finished) or a complete save that
// parses, and the next start restores it: the first frames show the saved
// location.  The engine writes a temp file, fsyncs and renames (save.c).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const WebSocket = require('ws');
const { startHost } = require('../lib/harness');
const { sleep, locationTitles, readSave } = require('./lib');

const KILLS = Number(process.env.TALE_HOSTILE_KILLS || 200);

function config(dataDir) {
  return [
    'mode: if',
    'story: ${SRC}/conf/stories/lighthouse',
    `data_dir: ${dataDir}`,
    'autosave: true', // restore on start (IF mode); a kill -9 never reaches the shutdown save
    'tick: 20ms',
    'log_level: info',
    'listeners:',
    '  - host: 127.0.0.1',
    '    port: 0',
    'limits:',
    '  input_rate: 0',
    'plugins:',
    '  - name: ws',
    '    module: ws',
    '',
  ].join('\n');
}

const WALK = ['north', 'save', 'east', 'save', 'west', 'save', 'north', 'save', 'south', 'save', 'south', 'save'];

test(`kill -9 during saves, ${KILLS} times: the save is absent or complete, and the next start restores it`, { timeout: 170000 }, async (t) => {
  const titles = locationTitles();
  assert.strictEqual(titles.jetty, 'The Jetty');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-hostile-save-'));
  const saveFile = path.join(dataDir, 'world.save');
  let expected = 'The Jetty'; // no save yet: a new game starts at the jetty
  let everSaved = false;
  const stats = { killsWithSave: 0, killsBeforeFirstSave: 0, restored: 0, leftoverTemp: 0, commands: 0, answered: 0, terms: 0, termsFinished: 0 };
  const places = new Set();
  const t0 = Date.now();
  try {
    for (let i = 0; i < KILLS; i++) {
      const host = await startHost({ config: config(dataDir) });
      let killed = false;
      try {
        const ws = new WebSocket(`ws://127.0.0.1:${host.port}/tale/ws`);
        const frames = [];
        ws.on('message', (d) => { try { frames.push(JSON.parse(d.toString())); } catch { /* ignore */ } });
        ws.on('error', () => {});
        await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
        // the first frame with a location is where the restored (or new) game stands
        const tw = Date.now();
        let first;
        while (!(first = frames.find((f) => f.type === 'text' && f.location)) && Date.now() - tw < 5000) await sleep(2);
        assert.ok(first, `start ${i}: a text frame with the location`);
        assert.strictEqual(first.location, expected, `start ${i}: the game resumes where the last complete save left it`);
        if (everSaved) {
          stats.restored++;
          // stderr is a separate pipe: the log line may trail the frame a little
          const tl = Date.now();
          while (!/restored the saved game/.test(host.stderr()) && Date.now() - tl < 2000) await sleep(5);
          assert.match(host.stderr(), /restored the saved game/);
        }
        // walk and save as fast as the host answers, and kill it at a random moment
        const killAt = Date.now() + Math.random() * 150;
        let k = Math.floor(Math.random() * WALK.length);
        // one command in flight: each is answered before the next, so saves
        // follow each other as fast as the host can write and fsync them
        while (Date.now() < killAt) {
          const n = frames.length;
          ws.send(JSON.stringify({ cmd: WALK[k++ % WALK.length] }));
          stats.commands++;
          while (frames.length === n && Date.now() < killAt) await new Promise((r) => setImmediate(r));
        }
        stats.answered += frames.length;
        if (i % 4 === 3) {
          // every fourth run: SIGTERM starts the shutdown save (autosave), and
          // SIGKILL follows 0-8 ms later, often in the middle of it
          host.proc.kill('SIGTERM');
          await sleep(Math.random() * 8);
          stats.terms++;
        }
        host.proc.kill('SIGKILL');
        killed = true;
        const r = await host.stop('SIGKILL');
        if (r.signal !== 'SIGKILL') {
          assert.strictEqual(r.code, 0, 'a shutdown that finished before the kill exits 0');
          stats.termsFinished++;
        }
        ws.terminate();
      } finally {
        if (!killed) await host.stop('SIGKILL');
        fs.rmSync(host.dir, { recursive: true, force: true });
      }
      // what a kill leaves behind
      if (fs.existsSync(saveFile)) {
        const loc = readSave(saveFile);
        assert.ok(titles[loc], `saved location ${loc} is in the story`);
        expected = titles[loc];
        places.add(loc);
        everSaved = true;
        stats.killsWithSave++;
      } else {
        assert.ok(!everSaved, `kill ${i}: a save that existed has vanished`);
        stats.killsBeforeFirstSave++;
      }
      // a temp file from an interrupted save may stay behind; it is never read
      stats.leftoverTemp = fs.readdirSync(dataDir).filter((f) => f.startsWith('world.save.tmp.')).length;
    }
    assert.ok(everSaved, 'at least one save completed');
    assert.ok(places.size >= 3, `saves stood in several places (${[...places]})`);
    t.diagnostic(`${KILLS} kills in ${Date.now() - t0} ms; ${stats.commands} commands sent, ${stats.answered} frames received; ${stats.restored} restores checked; ` +
      `${stats.killsBeforeFirstSave} kills before the first save; ${stats.terms} SIGTERM-then-SIGKILL (${stats.termsFinished} finished first); saved in ${[...places].join(', ')}; temp files left by interrupted saves: ${stats.leftoverTemp}`);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
