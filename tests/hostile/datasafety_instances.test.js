// datasafety_instances.test.js - the kill -9 test of datasafety.test.js with
// `instances: per_visitor`: 100 visitors play their own games (more than
// max_live_worlds, so evictions happen too) while the host is killed at
// random moments, TALE_HOSTILE_INSTANCE_KILLS times (default 100, about 40 s
// on two busy cores; 200, as the single-game test, took 80 s: set the variable
// for the full run).
// After every kill each stored game is complete (it parses, it is a save of
// the story) and on the next start every visitor whose game has a file gets
// it back under their cookie, standing where the file says.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startHost } = require('../lib/harness');
const { connect } = require('../ws/client');
const { sleep, locationTitles, readSave } = require('./lib');

const KILLS = Number(process.env.TALE_HOSTILE_INSTANCE_KILLS || 100);
const VISITORS = 100;
const WALK = ['north', 'east', 'west', 'north', 'south', 'south', 'look'];

function config(dataDir) {
  return [
    'mode: if',
    'instances: per_visitor',
    'story: ${SRC}/conf/stories/lighthouse',
    `data_dir: ${dataDir}`,
    'tick: 20ms',
    'log_level: info',
    'listeners:',
    '  - host: 127.0.0.1',
    '    port: 0',
    'limits:',
    '  input_rate: 0',
    '  max_sessions_per_address: 0',
    '  new_sessions_per_minute: 0',
    '  max_live_worlds: 60',
    '  world_save: 30ms',
    'plugins:',
    '  - name: ws',
    '    module: ws',
    '',
  ].join('\n');
}

const nameOf = (cookie) => crypto.createHash('sha256').update(cookie.split('=')[1]).digest('hex');

test(`per_visitor: kill -9 with ${VISITORS} games playing, ${KILLS} times: every stored game is complete and restores`, { timeout: 230000 }, async (t) => {
  const titles = locationTitles();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-hostile-inst-'));
  const worlds = path.join(dataDir, 'worlds');
  const visitors = Array.from({ length: VISITORS }, () => ({ cookie: null, expect: null }));
  const stats = { restoredChecked: 0, stored: 0, newGames: 0, commands: 0, leftoverTemp: 0, closedByEviction: 0 };
  const t0 = Date.now();
  try {
    for (let round = 0; round < KILLS; round++) {
      const host = await startHost({ config: config(dataDir) });
      const conns = [];
      try {
        // everyone comes back (or arrives); a stored game must come back as it was saved
        for (const v of visitors) {
          const p = await connect(host, v.cookie ? { cookie: v.cookie } : {});
          conns.push(p);
          p.closed.then(({ code }) => { if (code === 1001) stats.closedByEviction++; });
          const first = (await p.waitFor((m) => m.type === 'text' && m.location, { ms: 10000 })).msg;
          if (v.expect !== null) {
            assert.strictEqual(p.setCookie, null, `round ${round}: a stored game comes back under its cookie`);
            assert.strictEqual(first.location, v.expect, `round ${round}: the game stands where its file says`);
            stats.restoredChecked++;
          } else if (p.setCookie) {
            v.cookie = p.cookie;
            stats.newGames++;
          }
          // played at once: when a later arrival evicts this game, the eviction saves it
          p.send({ cmd: WALK[(round + conns.length) % WALK.length] });
          stats.commands++;
        }
        // everyone plays until a random moment, then kill -9 (sometimes in the middle of a shutdown)
        const killAt = Date.now() + 50 + Math.random() * 250;
        let k = round;
        while (Date.now() < killAt) {
          for (const p of conns) {
            if (p.ws.readyState === 1) {
              p.send({ cmd: WALK[k++ % WALK.length] });
              stats.commands++;
            }
          }
          await sleep(5);
        }
        if (round % 4 === 3) {
          host.proc.kill('SIGTERM');
          await sleep(Math.random() * 20);
        }
        host.proc.kill('SIGKILL');
        await host.stop('SIGKILL');
      } finally {
        for (const p of conns) p.ws.terminate();
        await host.stop('SIGKILL');
        fs.rmSync(host.dir, { recursive: true, force: true });
      }
      // what the kill left: every game folder holds a complete save, or (first save interrupted) only temp files
      let temps = 0;
      for (const name of fs.existsSync(worlds) ? fs.readdirSync(worlds) : []) {
        const files = fs.readdirSync(path.join(worlds, name));
        temps += files.filter((f) => f.startsWith('world.save.tmp.')).length;
        assert.ok(files.every((f) => f === 'world.save' || f.startsWith('world.save.tmp.')), `${name}: ${files}`);
        if (files.includes('world.save')) assert.ok(titles[readSave(path.join(worlds, name, 'world.save'))]);
      }
      stats.leftoverTemp = temps;
      stats.stored = 0;
      for (const v of visitors) {
        const file = path.join(worlds, nameOf(v.cookie), 'world.save');
        v.expect = fs.existsSync(file) ? titles[readSave(file)] : null;
        if (v.expect !== null) stats.stored++;
      }
    }
    assert.ok(stats.restoredChecked > 0, 'stored games were restored and checked');
    t.diagnostic(`${KILLS} kills in ${Date.now() - t0} ms; ${stats.commands} commands sent; ${stats.restoredChecked} restores checked; ` +
      `${stats.newGames} new games; ${stats.stored} of ${VISITORS} stored at the end; ${stats.closedByEviction} connections closed by eviction; ` +
      `temp files left by interrupted saves at the end: ${stats.leftoverTemp}`);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
