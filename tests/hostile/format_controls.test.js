// format_controls.test.js - a MUD player `say`s text holding a bidi override
// (U+202E), zero-width and other invisible format characters and control
// characters; the other player's frames carry none of them (issue #11,
// finding 7c).  The engine strips them from every line of input
// (core/engine/parser.c), whichever transport brought it.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const WebSocket = require('ws');
const { startHost, configWith } = require('../lib/harness');
const { stopClean, sleep } = require('./lib');

let host;
test.before(async () => {
  host = await startHost({ config: configWith(['static', 'ws', 'sse'], { mode: 'mud' }) });
});
test.after(async () => {
  if (host) await stopClean(host);
});

// A player on its own MUD seat: every text frame's raw JSON is kept.
async function player() {
  const ws = new WebSocket(`ws://127.0.0.1:${host.port}/tale/ws`, { origin: host.url });
  const raw = [];
  ws.on('message', (d) => raw.push(d.toString()));
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  return { ws, raw, text: () => raw.map((r) => JSON.parse(r)).filter((f) => f.type === 'text').map((f) => f.text).join('') };
}

async function waitFor(pred, ms = 3000) {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) return false;
    await sleep(10);
  }
  return true;
}

// The hidden characters: RLO, LRO, RLI, PDI, ZWSP, ZWJ, word joiner, BOM,
// soft hyphen, a tag letter, ALM, ESC, DEL and a C1 control (CSI).
const HIDDEN = ['\u202e', '\u202d', '\u2067', '\u2069', '\u200b', '\u200d', '\u2060', '\ufeff', '\u00ad',
  '\u{e0041}', '\u061c', '\u001b', '\u007f', '\u009b'];

test('a bidi override and other invisible characters in say do not reach another player', { timeout: 20000 }, async () => {
  const alice = await player();
  const bob = await player();
  try {
    await waitFor(() => bob.raw.length > 0 && alice.raw.length > 0);
    const from = bob.raw.length;
    // shown to bob as "pay 100 gold to Alice", were the override let through
    const words = `pay ${HIDDEN.join('')}ecilA ot dlog 001`;
    alice.ws.send(JSON.stringify({ cmd: `say ${words}` }));
    assert.ok(await waitFor(() => bob.raw.slice(from).some((r) => r.includes('says:'))), `bob hears alice: ${bob.raw.slice(from)}`);
    const heard = bob.raw.slice(from).map((r) => JSON.parse(r)).filter((f) => f.type === 'text').map((f) => f.text).join('');
    assert.match(heard, /pay ecilA ot dlog 001/);
    for (const c of HIDDEN) {
      const code = `U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
      assert.ok(!heard.includes(c), `bob's frame holds ${code}`);
      // nor escaped inside the JSON ("\u202e") that reached the socket
      const esc = `\\u${c.codePointAt(0).toString(16).padStart(4, '0')}`;
      assert.ok(!bob.raw.slice(from).some((r) => r.toLowerCase().includes(esc)), `bob's raw frame holds ${esc}`);
    }
    // and the speaker's own echo is the same cleaned line
    assert.ok(await waitFor(() => alice.text().includes('pay ecilA ot dlog 001')));
  } finally {
    alice.ws.close();
    bob.ws.close();
  }
});

test('the same characters over SSE + POST are stripped too', { timeout: 20000 }, async () => {
  const bob = await player();
  try {
    await waitFor(() => bob.raw.length > 0);
    // an SSE player: the event stream gives the session cookie, POST /tale/input takes commands
    const ctl = new AbortController();
    const es = await fetch(`${host.url}/tale/eventsource`, { headers: { Origin: host.url }, signal: ctl.signal });
    assert.strictEqual(es.status, 200);
    const cookie = (es.headers.get('set-cookie') || '').split(';')[0];
    assert.match(cookie, /^tale_session=/);
    const from = bob.raw.length;
    const r = await fetch(`${host.url}/tale/input`, {
      method: 'POST',
      headers: { Origin: host.url, Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `cmd=${encodeURIComponent(`say over ${HIDDEN.join('')}sse`)}`,
    });
    assert.ok(r.status < 300, `POST answered ${r.status}`);
    assert.ok(await waitFor(() => bob.raw.slice(from).some((x) => x.includes('over sse'))), `bob hears: ${bob.raw.slice(from)}`);
    const heard = bob.raw.slice(from).join('');
    for (const c of HIDDEN) assert.ok(!heard.includes(c) && !heard.toLowerCase().includes(`\\u${c.codePointAt(0).toString(16).padStart(4, '0')}`));
    ctl.abort();
  } finally {
    bob.ws.close();
  }
});
