// save.test.js - finding 7b of issue #11: a player's `save` never fsyncs on
// the event loop, and no MUD player can overwrite (or load) the shared world.
//   1. MUD: `save` and `load` are refused with a clear message; no save file.
//   2. IF: `save` answers "Game saved." once the file is on disk, and a
//      restart (after kill -9, so no shutdown save) resumes from it.
//   3. IF: quit saves through the worker; coming straight back resumes there.
//   4. IF: under strace, every fsync of 10 saves comes from the save worker
//      thread, never from the loop's thread (tid == pid).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const WebSocket = require('ws');
const { startHost, configWith } = require('../lib/harness');
const { sleep } = require('./lib');

// IF mode restoring from (and saving to) dataDir, which outlives each host.
function ifConfig(dataDir) {
  return configWith(['ws']).replace('autosave: false', 'autosave: true').replace('${TMP}/var', dataDir);
}

// A WebSocket player: send commands, wait for text frames matching a pattern.
async function player(host) {
  const ws = new WebSocket(`ws://127.0.0.1:${host.port}/tale/ws`);
  const frames = [];
  ws.on('message', (d) => { try { frames.push(JSON.parse(d.toString())); } catch { /* ignore */ } });
  ws.on('error', () => {});
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  const texts = () => frames.filter((f) => f.type === 'text');
  const waitFor = async (re, from = 0, ms = 5000) => {
    const t0 = Date.now();
    for (;;) {
      const f = texts().slice(from).find((x) => re.test(x.text));
      if (f) return f;
      if (Date.now() - t0 > ms) assert.fail(`no text frame matching ${re} in ${ms} ms; got ${JSON.stringify(texts().slice(from).map((x) => x.text))}`);
      await sleep(5);
    }
  };
  const send = (cmd) => { const n = texts().length; ws.send(JSON.stringify({ cmd })); return n; };
  return { ws, frames, texts, waitFor, send, close: () => ws.terminate() };
}

test('MUD: a player cannot save or load the shared world, and no save file appears', async () => {
  const host = await startHost({ config: configWith(['ws'], { mode: 'mud' }) });
  try {
    const p = await player(host);
    await p.waitFor(/./);
    let n = p.send('save');
    await p.waitFor(/not available here: this world is shared by every player/, n);
    n = p.send('load');
    await p.waitFor(/not available here: this world is shared by every player/, n);
    n = p.send('restore');
    await p.waitFor(/not available here: this world is shared by every player/, n);
    n = p.send('look'); // still playing
    await p.waitFor(/txt-location/, n);
    await sleep(100);
    assert.ok(!fs.existsSync(path.join(host.dir, 'var', 'world.save')), 'no world.save written by a MUD player');
    p.close();
  } finally {
    await host.stop();
    fs.rmSync(host.dir, { recursive: true, force: true });
  }
});

test('IF: save answers "Game saved." when the file is written, and a restart restores it', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-save-'));
  const saveFile = path.join(dataDir, 'world.save');
  try {
    let host = await startHost({ config: ifConfig(dataDir) });
    let savedAt;
    try {
      const p = await player(host);
      await p.waitFor(/./);
      let n = p.send('north');
      savedAt = (await p.waitFor(/./, n)).location;
      assert.notStrictEqual(savedAt, 'The Jetty', 'moved away from the start');
      n = p.send('save');
      await p.waitFor(/Game saved\./, n);
      const save = JSON.parse(fs.readFileSync(saveFile, 'utf8')); // complete when we are told
      assert.strictEqual(save.format, 'tale-save');
      // "load" in play puts the player back where the save stood
      n = p.send('south');
      await p.waitFor(/./, n);
      n = p.send('load');
      const f = await p.waitFor(/Game restored\./, n);
      assert.strictEqual(f.location, savedAt);
      p.close();
    } finally {
      await host.stop('SIGKILL'); // no shutdown save: what resumes is the player's save
      fs.rmSync(host.dir, { recursive: true, force: true });
    }
    host = await startHost({ config: ifConfig(dataDir) });
    try {
      const p = await player(host);
      const first = await p.waitFor(/./);
      assert.strictEqual(first.location, savedAt, 'the restart resumes from the saved game');
      p.close();
    } finally {
      await host.stop();
      fs.rmSync(host.dir, { recursive: true, force: true });
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('IF: quit saves through the worker, and coming straight back resumes where the player quit', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-save-'));
  const host = await startHost({ config: ifConfig(dataDir) });
  try {
    const p = await player(host);
    await p.waitFor(/./);
    let n = p.send('north');
    const there = (await p.waitFor(/./, n)).location;
    const closed = new Promise((res) => p.ws.once('close', res));
    p.send('quit');
    await closed; // the host ends the IF game (close 4002)

    // at once: the quit's save may still be on its way to disk
    const q = await player(host);
    const first = await q.waitFor(/./);
    assert.strictEqual(first.location, there, 'the new game resumes where the player quit');
    q.close();
    const t0 = Date.now();
    while (!fs.existsSync(path.join(dataDir, 'world.save')) && Date.now() - t0 < 5000) await sleep(10);
    assert.ok(fs.existsSync(path.join(dataDir, 'world.save')), 'the quit save reached the disk');
  } finally {
    await host.stop();
    fs.rmSync(host.dir, { recursive: true, force: true });
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

// Attach strace to the running host (every thread: -f with -p); resolve once
// each of its threads is attached.
async function straceAttach(pid, outFile) {
  assert.ok(fs.existsSync('/usr/bin/strace'), 'strace is installed (scripts/install-deps.sh)');
  const proc = spawn('strace', ['-f', '-p', String(pid), '-e', 'trace=fsync,fdatasync,syncfs,sync_file_range', '-o', outFile],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  // "Process N attached with T threads" (or "attached" once per thread)
  const tasks = fs.readdirSync(`/proc/${pid}/task`).length;
  const attached = () => (err.match(/attached(?: with (\d+) threads)?/g) || [])
    .reduce((sum, m) => sum + (Number((/(\d+) threads/.exec(m) || [])[1]) || 1), 0);
  const t0 = Date.now();
  while (attached() < tasks) {
    if (proc.exitCode !== null || Date.now() - t0 > 5000) assert.fail(`strace could not attach to ${pid}: ${err}`);
    await sleep(10);
  }
  return { proc, stop: () => new Promise((res) => { proc.once('exit', res); proc.kill('SIGINT'); }) };
}

test('IF: 10 saves fsync only on the save worker thread, never on the loop thread', { timeout: 60000 }, async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-save-'));
  const traceFile = path.join(dataDir, 'fsync.trace');
  const host = await startHost({ config: ifConfig(path.join(dataDir, 'var')) });
  try {
    const p = await player(host);
    await p.waitFor(/./);
    const st = await straceAttach(host.proc.pid, traceFile);
    for (let i = 0; i < 10; i++) {
      const n = p.send('save');
      await p.waitFor(/Game saved\./, n);
    }
    await st.stop();
    p.close();
    const lines = fs.readFileSync(traceFile, 'utf8').split('\n').filter((l) => /\b(fsync|fdatasync|syncfs|sync_file_range)\(/.test(l));
    assert.ok(lines.length >= 10, `10 saves fsynced (got ${lines.length} lines)`);
    const onLoop = lines.filter((l) => Number(l.split(/\s+/)[0]) === host.proc.pid);
    assert.deepStrictEqual(onLoop, [], 'no fsync on the loop thread (tid == pid)');
  } finally {
    await host.stop();
    fs.rmSync(host.dir, { recursive: true, force: true });
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
