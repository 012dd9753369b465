// The WebSocket protocol against the real host (PROTOCOL.md, "WebSocket"):
// connected frame, welcome frames, every text-frame field, autocomplete, input
// forms, tick output pushed with no input, and a ws-only config that plays.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { startHost, configWith } = require('../lib/harness');
const { connect, checkTextFrame, checkDataFrame, sleep, stopClean } = require('./client');

// Ask for a command's answer: the first text frame after `from` with a seq above `after`.
async function command(p, cmd, ms = 5000) {
  const from = p.msgs.length;
  p.send({ cmd });
  return (await p.waitFor((m) => m.type === 'text', { from, ms })).msg;
}

test('ws only: connected, then the welcome, then commands that move the player', async () => {
  const host = await startHost({ config: configWith(['ws']) });
  try {
    const p = await connect(host);
    assert.match(p.setCookie, /^tale_session=[0-9a-f]{32}; /);
    assert.match(p.setCookie, /HttpOnly/);
    assert.match(p.setCookie, /SameSite=Strict/);
    await p.waitFor((m) => m.type === 'text');
    await p.quiet(200);
    assert.deepStrictEqual(p.msgs[0], { type: 'connected' });
    const frames = p.msgs.slice(1);
    assert.ok(frames.length >= 1);
    frames.forEach((m, i) => {
      assert.strictEqual(m.seq, i + 1, 'a fresh connection gets every held frame from seq 1, in order');
      if (m.type === 'data') checkDataFrame(assert, m);
      else checkTextFrame(assert, m);
    });
    assert.ok(frames.some((m) => m.type === 'text' && /Lighthouse Keeper/.test(m.text)), 'welcome text');

    const look = await command(p, 'look');
    checkTextFrame(assert, look);
    for (const k of ['turns', 'location', 'location_image', 'npcs', 'items', 'exits']) assert.ok(k in look, `look lacks ${k}`);
    assert.strictEqual(look.location, 'The Jetty');
    assert.match(look.exits, /north/);
    assert.match(look.text, /<p>|<pre>/);
    assert.match(look.text, /\n$/);

    const north = await command(p, 'north');
    await p.waitFor((m) => m.type === 'text' && m.location === 'The Harbour', { from: p.msgs.indexOf(north) });
    assert.ok(north.seq > look.seq);

    // plain text is a command too
    const from = p.msgs.length;
    p.send('south');
    await p.waitFor((m) => m.type === 'text' && m.location === 'The Jetty', { from });
    p.ws.close(1000);
    assert.strictEqual((await p.closed).code, 1000);
    await stopClean(assert, host);
  } finally {
    await host.stop();
  }
});

test('autocomplete answers with a text frame listing completions', async () => {
  const host = await startHost({ config: configWith(['ws']) });
  try {
    const p = await connect(host);
    await p.waitFor((m) => m.type === 'text');
    await p.quiet(200);
    for (const flag of [1, true]) {
      const from = p.msgs.length;
      p.send({ cmd: 'lo', autocomplete: flag });
      const { msg } = await p.waitFor((m) => m.type === 'text', { from });
      checkTextFrame(assert, msg);
      assert.ok(Array.isArray(msg.completions), JSON.stringify(msg));
      assert.ok(msg.completions.includes('look'), JSON.stringify(msg.completions));
      assert.match(msg.text, /look/);
    }
    // an autocomplete request is not a command: the turn count does not move
    const a = await command(p, 'look');
    const from = p.msgs.length;
    p.send({ cmd: 'inv', autocomplete: 1 });
    await p.waitFor((m) => Array.isArray(m.completions), { from });
    const b = await command(p, 'look');
    assert.strictEqual(b.turns - a.turns, 1);
    await stopClean(assert, host);
  } finally {
    await host.stop();
  }
});

test('bad input gets a text frame and the connection stays up', async () => {
  const host = await startHost({ config: configWith(['ws']) });
  try {
    const p = await connect(host);
    await p.waitFor((m) => m.type === 'text');
    await p.quiet(200);
    for (const bad of ['[1,2]', '"look"', '42', '{"cmd":7}', '{"command":"look"}', '{"cmd":null}']) {
      const from = p.msgs.length;
      p.send(bad);
      const { msg } = await p.waitFor((m) => m.type === 'text', { from });
      assert.strictEqual(msg.type, 'text');
      assert.match(msg.text, /^<p>Input not understood: .*<\/p>\n$/, bad);
      assert.ok(!('seq' in msg), 'the plugin\'s own notice carries no seq');
    }
    const look = await command(p, 'look');
    assert.strictEqual(look.location, 'The Jetty');
    assert.strictEqual(p.ws.readyState, 1);
    await stopClean(assert, host);
  } finally {
    await host.stop();
  }
});

test('tick output is pushed with no input', async () => {
  const host = await startHost({ config: configWith(['ws'], { tick: '50ms' }) });
  try {
    const p = await connect(host);
    await p.waitFor((m) => m.type === 'text');
    await command(p, 'north'); // the harbour: Finn walks and mutters here
    await p.quiet(100);
    const from = p.msgs.length;
    const last = p.msgs[from - 1].seq;
    // nothing is sent from here on
    const { msg } = await p.waitFor((m) => m.type === 'text' && /Finn/.test(m.text), { from, ms: 10000 });
    checkTextFrame(assert, msg);
    assert.ok(msg.seq > last);
    await stopClean(assert, host);
  } finally {
    await host.stop();
  }
});

test('the mount answers 404 below it and 426 to a plain GET; no ws plugin means 404', async () => {
  const host = await startHost({ config: configWith(['ws', 'sse']) });
  try {
    let r = await fetch(`${host.url}/tale/ws`);
    assert.strictEqual(r.status, 426);
    assert.deepStrictEqual(Object.keys(await r.json()), ['error']);
    r = await fetch(`${host.url}/tale/ws/else`);
    assert.strictEqual(r.status, 404);
    await stopClean(assert, host);
  } finally {
    await host.stop();
  }
  const sseOnly = await startHost({ config: configWith(['sse']) });
  try {
    const r = await fetch(`${sseOnly.url}/tale/ws`);
    assert.strictEqual(r.status, 404);
    await stopClean(assert, sseOnly);
  } finally {
    await sseOnly.stop();
  }
});

test('quit: the goodbye frame arrives before the close (4002), not cut off by it', async () => {
  const host = await startHost({ config: configWith(['ws']) });
  try {
    const p = await connect(host);
    await p.waitFor((m) => m.type === 'text');
    p.send({ cmd: 'quit' });
    const { code } = await p.closed;
    assert.strictEqual(code, 4002);
    // wslay sends control frames before queued data: the close must wait for them
    assert.ok(p.msgs.some((m) => m.type === 'text' && /Goodbye, .*Thanks for playing/.test(m.text)), 'the goodbye arrived');
  } finally {
    await stopClean(assert, host);
  }
});
