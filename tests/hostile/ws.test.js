// ws.test.js - hand-made WebSocket frames and hostile text over a raw socket
// after a real handshake, a command flood and a client that never reads.
// Each case gets its documented answer (docs/SECURITY.md), the host stays up,
// a bystander player keeps getting answers throughout, and RSS comes back.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { startHost, configWith } = require('../lib/harness');
const { stopClean, sleep, rssKb, fdCount, underSanitizer, wsRaw, frame, closeFrame, bystander } = require('./lib');

const welcome = (f) => f.op === 1 && f.json && f.json.type === 'text' && /Lighthouse Keeper/.test(f.json.text);
const big = (n, ch) => Buffer.alloc(n, ch);
// A masked frame whose length takes a longer form than it needs: the 16-bit
// form under 126 or the 64-bit one under 65536 (RFC 6455, 5.2: the minimal
// number of bytes MUST be used).  Mask key 0, so the payload goes as is.
const longForm = (opcode, payload, size) => {
  const p = Buffer.from(payload);
  const len = Buffer.alloc(size);
  len.writeUIntBE(p.length, size - 2, 2);
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | (size === 2 ? 126 : 127)]), len, Buffer.alloc(4), p]);
};

// [name, bytes to send, expected]: { close: code } a close frame with that code then TCP close
// ({ within: ms }: the close frame arrives that soon after the bytes were sent);
// { reply: /re/ } a text frame, connection stays.
// Every protocol violation is answered with close 1002 before the TCP close
// (RFC 6455, 7.1.7), and a frame whose header declares more than max_message
// (64k here) with close 1009 as soon as the header is in, before any payload.
const FRAME_CASES = [
  ['unmasked client frame', frame(1, '{"cmd":"look"}', { mask: false }), { close: 1002 }],
  ['reserved data opcode 0x3', frame(3, 'x'), { close: 1002 }],
  ['reserved control opcode 0xB', frame(0xb, 'x'), { close: 1002 }],
  ['RSV1 without an extension', frame(1, 'look', { rsv: 4 }), { close: 1002 }],
  ['RSV2+RSV3 without an extension', frame(1, 'look', { rsv: 3 }), { close: 1002 }],
  ['ping over 125 bytes', frame(9, big(126, 0x61)), { close: 1002 }],
  ['pong over 125 bytes', frame(10, big(200, 0x61)), { close: 1002 }],
  ['fragmented ping (FIN clear)', frame(9, 'ab', { fin: false }), { close: 1002 }],
  ['fragmented pong (FIN clear)', frame(10, 'ab', { fin: false }), { close: 1002 }],
  ['close with a 126-byte payload', frame(8, Buffer.concat([Buffer.from([0x03, 0xe8]), big(124, 0x61)])), { close: 1002 }],
  ['close with reserved code 1005', frame(8, Buffer.from([0x03, 0xed])), { close: 1002 }],
  ['close with code 999', frame(8, Buffer.from([0x03, 0xe7])), { close: 1002 }],
  ['close with unassigned code 5000', frame(8, Buffer.from([0x13, 0x88])), { close: 1002 }],
  ['close with a 1-byte payload', frame(8, Buffer.from([0x03])), { close: 1002 }],
  ['continuation without a start', frame(0, 'look'), { close: 1002 }],
  ['new text frame inside a fragmented message', Buffer.concat([frame(1, 'lo', { fin: false }), frame(1, 'ok')]), { close: 1002 }],
  ['length in the 16-bit form for 5 bytes', longForm(1, 'hello', 2), { close: 1002 }],
  ['length in the 64-bit form for 300 bytes', longForm(1, 'x'.repeat(300), 8), { close: 1002 }],
  ['payload length 2^63 (MSB set)', frame(1, Buffer.alloc(0), { len: 1n << 63n }), { close: 1002, within: 1000 }],
  ['payload length 2^63-1, header alone', frame(1, Buffer.alloc(0), { len: (1n << 63n) - 1n }), { close: 1009, within: 1000 }],
  ['payload length 2^63-1, then 70 kB of it', Buffer.concat([frame(1, Buffer.alloc(0), { len: (1n << 63n) - 1n }), big(70000, 0x41)]), { close: 1009 }],
  ['header declaring max_message+1 bytes, no payload', frame(1, Buffer.alloc(0), { len: 65537n }), { close: 1009, within: 1000 }],
  ['fragments adding up past max_message', Buffer.concat([frame(1, big(40000, 0x28), { fin: false }), frame(0, Buffer.alloc(0), { len: 30000n })]), { close: 1009, within: 1000 }],
  ['binary message', frame(2, 'look'), { close: 1003 }],
  ['text with invalid UTF-8', frame(1, Buffer.from([0x6c, 0xc3, 0x28, 0xff])), { close: 1007 }],
  // the server closes while most of the megabyte is still arriving, so the
  // kernel may reset the connection before the client reads the close frame
  ['1 MB of "(" (over max_message)', frame(1, big(1 << 20, 0x28)), { close: 1009, orReset: true }],
  ['60 kB of "(" (over max_input)', frame(1, big(60000, 0x28)), { reply: /too long for me to follow/ }],
  ['NUL byte in a plain command', frame(1, Buffer.from('lo\0ok')), { reply: /contains a NUL character; it was not run/ }],
  ['NUL escaped in JSON', frame(1, Buffer.from('{"cmd":"lo\\u0000ok"}')), { reply: /I don&#39;t know the verb/ }],
  ['JSON nested 500 deep', frame(1, '['.repeat(500) + ']'.repeat(500)), { reply: /JSON input must be an object/ }],
  ['JSON nested 30,000 deep', frame(1, '['.repeat(30000) + ']'.repeat(30000)), { reply: /too long for me to follow/ }],
  ['"cmd" nested 100 deep', frame(1, '{"cmd":'.repeat(100) + '"x"' + '}'.repeat(100)), { reply: /&quot;cmd&quot; must be a string/ }],
  ['HTML in a command', frame(1, '{"cmd":"<script>alert(1)</script>"}'), { reply: /&lt;script&gt;/ }],
  ['a fragmented command with a ping between its fragments',
    Buffer.concat([frame(1, '{"cmd":"lo', { fin: false }), frame(9, 'are you there'), frame(0, 'ok"}')]), { reply: /txt-userinput'>look</ }],
  ['a ping of 125 bytes', Buffer.concat([frame(9, big(125, 0x70)), frame(1, '{"cmd":"look"}')]), { reply: /txt-userinput'>look</ }],
  ['a proper close 1000', closeFrame(1000, 'bye'), { close: 1000 }],
  ['a close with code 4000 and a 123-byte reason', closeFrame(4000, 'r'.repeat(123)), { close: 4000 }],
];

let resets = 0; // cases allowed to end in a reset that did

// The attacker keeps one session cookie (MUD mode holds a detached seat for a
// reconnect, so anonymous connections would each leave a seat behind: that
// bound is tested on its own below).
// It resumes after the last frame it saw, so nothing is replayed and every
// frame after "connected" answers the hostile bytes.
const attacker = { cookie: null, seq: 0 };
async function runCase(port, [name, bytes, want]) {
  const c = await wsRaw(port, { cookie: attacker.cookie, path: `/tale/ws?resume=${attacker.seq}` });
  if (!attacker.cookie) {
    attacker.cookie = /tale_session=[0-9a-f]+/.exec(c.head)[0];
    await c.waitFor(welcome);
    await sleep(100);
  } else {
    await c.waitFor((f) => f.json && f.json.type === 'connected');
  }
  const from = c.frames.length;

  const sentAt = Date.now();
  c.send(bytes);
  try {
    if (want.reply) {
      const f = await c.waitFor((x) => x.op === 1, { from, ms: 3000 });
      assert.match(f.text, want.reply, name);
      assert.doesNotMatch(f.text, /<script>/, `${name}: player text is escaped`);
      await sleep(50);
      assert.strictEqual(c.closed, false, `${name}: the connection stays open`);
      assert.ok(!c.frames.some((x) => x.op === 8), `${name}: no close frame`);
    } else {
      const r = await c.waitClose(4000);
      assert.ok(r.tcpClosed, `${name}: the server ends the TCP connection`);
      if (want.orReset && r.frame === null) resets++;
      else {
        assert.ok(r.frame, `${name}: a close frame`);
        assert.strictEqual(r.code, want.close, `${name}: close code`);
        if (want.within) assert.ok(r.frame.at - sentAt <= want.within, `${name}: the close came ${r.frame.at - sentAt} ms after the header`);
      }
    }
  } finally {
    c.destroy();
    for (const f of c.frames) if (f.json && f.json.seq > attacker.seq) attacker.seq = f.json.seq;
  }
}

test('hand-made frames and hostile text: documented answers, bystander plays on, memory returns', { timeout: 90000 }, async (t) => {
  const host = await startHost({ config: configWith(['static', 'ws', 'sse'], { mode: 'mud' }) });
  const pid = host.proc.pid;
  try {
    const b = await bystander(host);
    // warm up allocator pools with a full pass before the baseline
    for (const k of FRAME_CASES) await runCase(host.port, k);
    await sleep(300);
    const rss0 = rssKb(pid);
    const fds0 = fdCount(pid);
    for (let round = 0; round < 3; round++) {
      for (const k of FRAME_CASES) {
        await runCase(host.port, k);
        assert.strictEqual(host.proc.exitCode, null, `host alive after "${k[0]}"`);
      }
      await b.check();
    }
    await sleep(500);
    const rss1 = rssKb(pid);
    const fds1 = fdCount(pid);
    t.diagnostic(`${FRAME_CASES.length} cases x 3; RSS ${rss0} -> ${rss1} kB; fds ${fds0} -> ${fds1}; bystander ${b.rounds} looks, worst ${b.worst} ms; ${resets} resets before the 1009`);
    assert.ok(fds1 <= fds0 + 2, `fds ${fds0} -> ${fds1}`);
    if (!underSanitizer(pid)) assert.ok(rss1 <= rss0 + Math.max(4096, rss0 * 0.2), `RSS ${rss0} -> ${rss1} kB`);
    await b.stop();
    assert.doesNotMatch(host.stderr(), /AddressSanitizer|runtime error:|Assertion|SEGV/);
  } finally {
    await stopClean(host);
  }
});

test('a client that never reads is closed with 1008 at max_backlog and its socket released', { timeout: 60000 }, async (t) => {
  const host = await startHost({ config: configWith(['ws'], { mode: 'mud', pluginConfig: { ws: { max_backlog: '256k' } } }) });
  const pid = host.proc.pid;
  try {
    const b = await bystander(host);
    await sleep(300);
    const rss0 = rssKb(pid);
    const fds0 = fdCount(pid);
    const stalled = /\[ws\] closing a connection that does not read: \d+ bytes queued \(max_backlog 262144\)/g;
    // Pause reading, send looks until the ws plugin gives up on us.
    async function stall(c) {
      await c.waitFor((f) => f.json && f.json.type === 'connected');
      c.sock.pause(); // the kernel buffers fill, then wslay's queue
      const look = frame(1, '{"cmd":"look"}');
      const before = (host.stderr().match(stalled) || []).length;
      const t0 = Date.now();
      let sent = 0;
      while ((host.stderr().match(stalled) || []).length === before && Date.now() - t0 < 20000) {
        for (let i = 0; i < 200; i++) c.send(look);
        sent += 200;
        await sleep(10);
      }
      assert.strictEqual((host.stderr().match(stalled) || []).length, before + 1, `the plugin gives up after ${sent} unread looks`);
      return sent;
    }
    // 1: it reads again within the close grace: its backlog, then close 1008
    let c = await wsRaw(host.port);
    const sent = await stall(c);
    c.sock.resume();
    const r = await c.waitClose(10000);
    assert.strictEqual(r.code, 1008);
    assert.match(r.reason, /not reading/);
    assert.ok(r.tcpClosed);
    c.destroy();
    await b.check();
    // 2: it never reads: after the close grace (2 s) the host drops the socket anyway
    c = await wsRaw(host.port, { cookie: /tale_session=[0-9a-f]+/.exec(c.head)[0] });
    await stall(c);
    const t1 = Date.now();
    while (fdCount(pid) > fds0 && Date.now() - t1 < 5000) await sleep(100);
    assert.ok(fdCount(pid) <= fds0, `the silent reader's socket is released (${fdCount(pid)} fds, baseline ${fds0})`);
    await b.check();
    c.destroy();
    await sleep(500);
    const rss1 = rssKb(pid);
    t.diagnostic(`sent ${sent} looks unread; RSS ${rss0} -> ${rss1} kB`);
    if (!underSanitizer(pid)) assert.ok(rss1 <= rss0 + 4096, `RSS ${rss0} -> ${rss1} kB`);
    await b.stop();
  } finally {
    await stopClean(host);
  }
});

// wslay answers every ping with a pong queued in the same outgoing queue; the
// pongs count against max_backlog like game text.  (Before that fix, a quiet
// room let one such client grow the host by 450 MB in 12 s.)
test('a client that sends pings and never reads is closed at max_backlog too', { timeout: 30000 }, async (t) => {
    const host = await startHost({ config: configWith(['ws'], { mode: 'mud', pluginConfig: { ws: { max_backlog: '256k' } } }) });
    const pid = host.proc.pid;
    try {
      const c = await wsRaw(host.port);
      await c.waitFor(welcome);
      c.sock.pause();
      const rss0 = rssKb(pid);
      const batch = Buffer.concat(Array.from({ length: 1000 }, () => frame(9, big(125, 0x70))));
      const t0 = Date.now();
      // Under ASan every allocation carries redzones and freed memory sits in
      // quarantine, so RSS says nothing about the queue there: bound by time only.
      const sanitized = underSanitizer(pid);
      // bounded: stop at 48 MB of growth or 6 s, whichever comes first
      while (!/closing a connection that does not read/.test(host.stderr()) && (sanitized || rssKb(pid) < rss0 + 49152) &&
        Date.now() - t0 < 6000) {
        if (c.sock.writableLength < 1 << 20) c.send(batch);
        await sleep(5);
      }
      const grown = rssKb(pid) - rss0;
      c.destroy();
      t.diagnostic(`RSS grew ${grown} kB while pinging without reading`);
      assert.match(host.stderr(), /closing a connection that does not read/);
      if (!sanitized) assert.ok(grown < 8192, `RSS grew ${grown} kB`);
    } finally {
      await stopClean(host);
    }
  });

test('a command flood meets the per-session rate limit politely; the bystander is not limited', { timeout: 30000 }, async () => {
  const host = await startHost({ config: configWith(['ws'], { mode: 'mud', limits: { input_rate: 5, input_burst: 5 } }) });
  try {
    const b = await bystander(host, { every: 400 }); // 2.5 commands/s: under the limit
    const c = await wsRaw(host.port);
    await c.waitFor(welcome);
    const from = c.frames.length;
    const burst = [];
    for (let i = 0; i < 200; i++) burst.push(frame(1, '{"cmd":"look"}'));
    const tSend = Date.now();
    c.send(Buffer.concat(burst));
    await sleep(800);
    const got = c.frames.slice(from).filter((f) => f.op === 1);
    const answered = got.filter((f) => /txt-userinput'>look</.test(f.json.text)).length;
    const notices = got.filter((f) => /typing faster than the game can follow/.test(f.json.text)).length;
    // the burst of 5, plus what refilled at 5/s while the 200 frames were read
    // (well under a second here; allowed for on a slow or loaded machine)
    const secs = (Math.max(...got.map((f) => f.at)) - tSend) / 1000;
    assert.ok(answered >= 5 && answered <= 6 + Math.ceil(5 * secs), `answered ${answered} of 200 in ${secs} s`);
    assert.ok(notices >= 1 && notices <= 1 + Math.floor(secs), `${notices} polite notices in ${secs} s, not one per dropped command`);
    assert.strictEqual(c.closed, false, 'the flooder stays connected');
    // a second later the bucket has refilled: commands work again
    await sleep(1200);
    const from2 = c.frames.length;
    c.text('{"cmd":"look"}');
    await c.waitFor((f) => f.op === 1 && /txt-userinput'>look</.test(f.text), { from: from2, ms: 2000 });
    c.destroy();
    await b.stop();
    assert.ok(b.rounds >= 3);
  } finally {
    await stopClean(host);
  }
});

test('anonymous handshakes fill at most max_sessions seats; the next gets 503; memory stays bounded', { timeout: 60000 }, async (t) => {
  // every seat comes from 127.0.0.1 on purpose: the per-address limits (seats.test.js) are off here
  const limits = { input_rate: 0, max_sessions: 40, session_backlog: '16k', max_sessions_per_address: 0, new_sessions_per_minute: 0 };
  const host = await startHost({ config: configWith(['ws'], { mode: 'mud', limits }) });
  const pid = host.proc.pid;
  try {
    const b = await bystander(host); // holds seat 1
    for (let i = 0; i < 39; i++) {
      const c = await wsRaw(host.port);
      await c.waitFor(welcome);
      c.destroy();
    }
    await sleep(200);
    const rss0 = rssKb(pid);
    for (let i = 0; i < 60; i++) {
      await assert.rejects(wsRaw(host.port), /handshake answered: HTTP\/1\.1 503/);
    }
    assert.match(host.stderr(), /refusing a new player: max_sessions \(40\) reached/);
    await b.check();
    const rss1 = rssKb(pid);
    t.diagnostic(`RSS with 40 seats ${rss0} kB, after 60 refusals ${rss1} kB`);
    if (!underSanitizer(pid)) assert.ok(rss1 <= rss0 + 2048, `RSS ${rss0} -> ${rss1} kB`);
    await b.stop();
  } finally {
    await stopClean(host);
  }
});
