// instances.test.js - `instances: per_visitor` with real clients: every
// visitor their own game of the bundled story, kept under their cookie
// through eviction (max_live_worlds, world_idle), a restart, and every
// transport (WebSocket, SSE + POST + tab completion); quit ends only that
// visitor's game.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startHost } = require('../lib/harness');
const { connect, sleep, stopClean } = require('../ws/client');
const { openEventSource, request, postInput } = require('../sse/client');

function config(dataDir, { live = 3, idle = '10m', save = '200ms', plugins = ['ws'] } = {}) {
  return [
    'mode: if',
    'instances: per_visitor',
    'story: ${SRC}/conf/stories/lighthouse',
    `data_dir: ${dataDir}`,
    'tick: 100ms',
    'log_level: debug',
    'listeners:',
    '  - host: 127.0.0.1',
    '    port: 0',
    'limits:',
    '  input_rate: 0',
    `  max_live_worlds: ${live}`,
    `  world_idle: ${idle}`,
    `  world_save: ${save}`,
    'plugins:',
    ...plugins.flatMap((p) => [`  - name: ${p}`, `    module: ${p}`]),
    '',
  ].join('\n');
}

// One command and the text frame that answers it (the first text frame after `from`).
async function command(p, cmd) {
  const from = p.msgs.length;
  p.send({ cmd });
  return (await p.waitFor((m) => m.type === 'text', { from })).msg;
}

// A visitor at the harbour, where the gutting knife lies.
async function atHarbour(host, opts) {
  const p = await connect(host, opts);
  await p.waitFor((m) => m.type === 'text' && m.location);
  const r = await command(p, 'north');
  assert.strictEqual(r.location, 'The Harbour');
  return p;
}

// Where a (returning) visitor stands: the last location in what they were sent
// (the backlog from the start of the session, or a restored game's first look).
async function whereNow(p) {
  await p.waitFor((m) => m.type === 'text' && m.location);
  const msgs = await p.quiet(150, 3000);
  return msgs.filter((m) => m.type === 'text' && m.location).pop().location;
}

async function waitLog(host, re, ms = 5000) {
  const t0 = Date.now();
  while (!re.test(host.stderr()) && Date.now() - t0 < ms) await sleep(20);
  assert.match(host.stderr(), re);
}

function gameFolders(dataDir) {
  const dir = path.join(dataDir, 'worlds');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

function tokenOf(cookie) {
  return cookie.split('=')[1];
}

test('per_visitor: own games, return by cookie, eviction, restart, quit', { timeout: 60000 }, async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-inst-'));
  let host = await startHost({ config: config(dataDir) });
  const cookies = {};
  try {
    await t.test('two visitors get different games', async () => {
      const a = await atHarbour(host);
      const b = await atHarbour(host);
      assert.notStrictEqual(a.cookie, b.cookie);
      assert.match((await command(a, 'take knife')).text, /knife/i);
      assert.doesNotMatch((await command(a, 'look')).items || '', /knife/);
      // the knife is still at b's harbour
      assert.match((await command(b, 'look')).items, /gutting knife/);
      a.ws.close();
      b.ws.close();
      await Promise.all([a.closed, b.closed]);

      // the same browser comes back (cookie): the same game, knife in hand
      const a2 = await connect(host, { cookie: a.cookie });
      assert.strictEqual(a2.setCookie, null, 'no new cookie for a returning visitor');
      assert.strictEqual(await whereNow(a2), 'The Harbour');
      assert.match((await command(a2, 'inventory')).text, /gutting knife/);
      a2.ws.close();
      await a2.closed;
      cookies.a = a.cookie;
      cookies.b = b.cookie;
    });

    await t.test('the least recently used game is put away at max_live_worlds and restored on return', async () => {
      // a and b are live without a connection; three newcomers need room
      const others = [];
      for (let i = 0; i < 3; i++) {
        const p = await connect(host);
        await p.waitFor((m) => m.type === 'text' && m.location);
        others.push(p);
      }
      await waitLog(host, /game put away \(max_live_worlds\)/);
      const folders = gameFolders(dataDir);
      assert.ok(folders.length >= 1, 'the evicted game that was played has a folder');
      for (const c of [cookies.a, cookies.b]) assert.ok(folders.every((f) => !f.includes(tokenOf(c))), 'no folder name shows a token');
      // the evicted game comes back with its state; a resume from its old seq gets a fresh first frame
      const a3 = await connect(host, { cookie: cookies.a, resume: 3 });
      const first = (await a3.waitFor((m) => m.type === 'text' && m.location)).msg;
      assert.ok(first.seq > 3, `numbering goes on after the eviction (seq ${first.seq})`);
      assert.strictEqual(first.location, 'The Harbour');
      assert.match((await command(a3, 'inventory')).text, /gutting knife/);
      await waitLog(host, /a returning visitor's game/);
      a3.ws.close();
      for (const p of others) p.ws.close();
    });

    await t.test('quit ends that visitor\'s game only, file and all', async () => {
      const b = await connect(host, { cookie: cookies.b });
      await whereNow(b);
      await command(b, 'wait');
      await sleep(400); // past world_save: b's game has a file
      const before = gameFolders(dataDir).length;
      b.send({ cmd: 'quit' });
      const { code } = await b.closed;
      assert.strictEqual(code, 4002);
      await waitLog(host, /a visitor quit; their game is over/);
      const t0 = Date.now();
      while (gameFolders(dataDir).length >= before && Date.now() - t0 < 3000) await sleep(20);
      assert.strictEqual(gameFolders(dataDir).length, before - 1, 'its folder is gone');
      // a's game is untouched
      const a = await connect(host, { cookie: cookies.a });
      await whereNow(a);
      assert.match((await command(a, 'inventory')).text, /gutting knife/);
      a.ws.close();
      // b's cookie now starts a new game
      const b2 = await connect(host, { cookie: cookies.b });
      assert.ok(b2.setCookie, 'a new game, a new cookie');
      b2.ws.close();
    });

    await t.test('a restart restores each game on demand', async () => {
      await stopClean(assert, host);
      host = await startHost({ config: config(dataDir) });
      await waitLog(host, /stored games? \(\d+ bytes\)/);
      const a = await connect(host, { cookie: cookies.a });
      assert.strictEqual(a.setCookie, null);
      assert.strictEqual(await whereNow(a), 'The Harbour');
      assert.match((await command(a, 'inventory')).text, /gutting knife/);
      a.ws.close();
    });
  } finally {
    await host.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('per_visitor: a game without a connection is put away after world_idle', { timeout: 30000 }, async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-inst-'));
  const host = await startHost({ config: config(dataDir, { idle: '300ms' }) });
  try {
    const a = await atHarbour(host);
    await command(a, 'take knife');
    a.ws.close();
    await a.closed;
    await waitLog(host, /game put away \(world_idle\)/);
    const a2 = await connect(host, { cookie: a.cookie });
    assert.strictEqual(await whereNow(a2), 'The Harbour');
    assert.match((await command(a2, 'inventory')).text, /gutting knife/);
    a2.ws.close();
    await stopClean(assert, host);
  } finally {
    await host.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('per_visitor over SSE: POST input and tab completion reach the visitor\'s own game', { timeout: 30000 }, async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-inst-'));
  const host = await startHost({ config: config(dataDir, { live: 1, plugins: ['ws', 'sse'] }) });
  try {
    const es = openEventSource(host.url);
    await es.opened;
    await es.waitFor((f) => f.some((x) => x.event === 'text' && x.json.location), 5000, 'the first look');
    const cookie = es.jar.cookie;
    assert.ok(cookie, 'the stream handed out a cookie');
    let n = es.frames.length;
    let r = await postInput(host.url, cookie, 'cmd=north');
    assert.ok(r.status === 204 || r.status === 200, `status ${r.status}`);
    await es.waitFor((f) => f.slice(n).some((x) => x.event === 'text' && x.json.location === 'The Harbour'), 5000, 'the harbour');
    n = es.frames.length;
    r = await postInput(host.url, cookie, 'cmd=take%20knife');
    await es.waitFor((f) => f.slice(n).some((x) => x.event === 'text' && /knife/i.test(x.json.text)), 5000, 'the knife');
    const t = await request(`${host.url}/tale/tabcomplete?prefix=loo`, { cookie });
    assert.strictEqual(t.status, 200);
    assert.ok(t.json.includes('look'), t.text);
    es.close();

    // a WebSocket visitor takes the only live slot: the SSE game is put away
    const other = await connect(host);
    await other.waitFor((m) => m.type === 'text' && m.location);
    await waitLog(host, /game put away \(max_live_worlds\)/);
    other.ws.close();
    // a POST with the cookie brings it back, and the stream shows its state
    const es2 = openEventSource(host.url, { cookie });
    await es2.opened;
    await es2.waitFor((f) => f.some((x) => x.event === 'text' && x.json.location === 'The Harbour'), 5000, 'the restored game');
    n = es2.frames.length;
    r = await postInput(host.url, cookie, 'cmd=inventory');
    await es2.waitFor((f) => f.slice(n).some((x) => x.event === 'text' && /gutting knife/.test(x.json.text)), 5000, 'the inventory');
    assert.strictEqual(es2.jar.cookie, cookie, 'the same cookie throughout');
    es2.close();
    await stopClean(assert, host);
  } finally {
    await host.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

// The console plugin in per_visitor: a game of its own, kept across restarts
// (the console quits on EOF: a graceful shutdown, which saves it).
function consoleRun(dataDir, lines) {
  const { spawn } = require('child_process');
  const { HOST_BIN, SRC } = require('../lib/harness');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-inst-console-'));
  const file = path.join(dir, 'tale.yaml');
  fs.writeFileSync(file, config(dataDir, { plugins: ['console'] }).replace(/\$\{SRC\}/g, SRC));
  const proc = spawn(HOST_BIN, ['--config', file], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { err += d; });
  proc.stdin.on('error', () => {});
  proc.stdin.end(lines.map((l) => l + '\n').join(''));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`no exit in 20 s:\n${err}`)); }, 20000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      fs.rmSync(dir, { recursive: true, force: true });
      resolve({ code, out, err });
    });
  });
}

test('per_visitor: the console plays a game of its own, the same one after a restart', { timeout: 60000 }, async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-inst-'));
  try {
    let r = await consoleRun(dataDir, ['north', 'take knife']);
    assert.strictEqual(r.code, 0, r.err.slice(-2000));
    assert.match(r.out, /gutting knife/i);
    r = await consoleRun(dataDir, ['inventory']);
    assert.strictEqual(r.code, 0, r.err.slice(-2000));
    assert.match(r.out, /You are carrying[^\n]*gutting knife/);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
