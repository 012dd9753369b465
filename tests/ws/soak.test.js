// 1,000 WebSocket connect/disconnect cycles leave the host's resident memory
// and open file descriptors flat; SIGTERM closes players with 1001 and the
// host exits 0 within 5 s.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const net = require('net');
const { startHost, configWith } = require('../lib/harness');
const { connect } = require('./client');

// Under AddressSanitizer RSS moves with the sanitizer's own allocator caches,
// so the RSS bound is looser there; LeakSanitizer checks leaks at exit instead
// (a leak makes the host's exit code non-zero).
function sanitized(pid) {
  return fs.readFileSync(`/proc/${pid}/maps`, 'utf8').includes('libasan');
}

function usage(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)[1]),
    fds: fs.readdirSync(`/proc/${pid}/fd`).length,
  };
}

// One cycle: open, receive the connected frame and the replay, send a command, close.
async function cycle(host, cookie, i) {
  const p = await connect(host, { cookie, resume: i % 2 ? 0 : undefined });
  await p.waitFor((m) => m.type === 'connected');
  if (i % 3 === 0) {
    const from = p.msgs.length;
    p.send(i % 2 ? { cmd: 'look' } : 'look');
    await p.waitFor((m) => m.type === 'text' && m.location === 'The Jetty', { from });
  }
  if (i % 5 === 0) p.ws.terminate(); // some die without a close handshake
  else p.ws.close(1000);
  await p.closed;
  return p.cookie;
}

test('1,000 connect/disconnect cycles leave RSS and fds flat', { timeout: 240000 }, async () => {
  // Under AddressSanitizer freed memory sits in a quarantine and RSS climbs
  // by design; without the quarantine the measure means the same as without ASan.
  const env = { ASAN_OPTIONS: `${process.env.ASAN_OPTIONS || ''}:quarantine_size_mb=0` };
  const host = await startHost({ config: configWith(['ws']), env });
  try {
    // Fill the session's held backlog (limits.session_backlog) first, so that
    // what it holds stops growing before we measure.
    const first = await connect(host);
    for (let i = 0; i < 400; i++) {
      const from = first.msgs.length;
      first.send({ cmd: 'look' });
      await first.waitFor((m) => m.type === 'text' && m.location === 'The Jetty', { from });
    }
    first.ws.close();
    await first.closed;
    let cookie = first.cookie;
    for (let i = 0; i < 100; i++) cookie = await cycle(host, cookie, i); // warm up allocator and session
    await new Promise((r) => setTimeout(r, 300));
    const before = usage(host.proc.pid);
    for (let i = 0; i < 1000; i++) cookie = await cycle(host, cookie, i);
    await new Promise((r) => setTimeout(r, 500)); // let the last closes finish
    const after = usage(host.proc.pid);
    const grew = after.rssKb - before.rssKb;
    if (process.env.TALE_TEST_VERBOSE) console.log('usage', before, after);
    assert.ok(grew < (sanitized(host.proc.pid) ? 4096 : 512), `RSS grew by ${grew} kB over 1,000 cycles (${before.rssKb} -> ${after.rssKb})`);
    assert.ok(after.fds <= before.fds + 1, `fds ${before.fds} -> ${after.fds}`);
    assert.strictEqual(host.proc.exitCode, null);
    const r = await host.stop();
    assert.strictEqual(r.code, 0, host.stderr().slice(-3000));
  } finally {
    await host.stop();
  }
});

test('one connection stays flat over 100,000 frames', { timeout: 240000 }, async () => {
  const env = { ASAN_OPTIONS: `${process.env.ASAN_OPTIONS || ''}:quarantine_size_mb=0` };
  const host = await startHost({ config: configWith(['ws']), env });
  try {
    const p = await connect(host);
    await p.waitFor((m) => m.type === 'text');
    let frames = 0;
    let last = null;
    p.ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (Number.isInteger(m.seq)) {
        if (last !== null) assert.strictEqual(m.seq, last + 1, 'frames arrive in order');
        last = m.seq;
        frames++;
      }
    });
    const t0 = Date.now();
    let before = null;
    const BATCH = 200;
    while (frames < 100000) {
      // pipelined commands, one frame each; the client drops what it has read
      const target = frames + BATCH;
      for (let j = 0; j < BATCH; j++) p.send('look');
      while (frames < target) {
        assert.ok(Date.now() - t0 < 180000, `only ${frames} frames in 180 s`);
        await new Promise((r) => setTimeout(r, 1));
      }
      p.msgs.length = 0;
      // the session's held backlog is full long before 20,000 frames
      if (before === null && frames >= 20000) before = usage(host.proc.pid);
    }
    const after = usage(host.proc.pid);
    const grew = after.rssKb - before.rssKb;
    if (process.env.TALE_TEST_VERBOSE) console.log('usage', before, after);
    assert.ok(grew < (sanitized(host.proc.pid) ? 4096 : 256), `RSS grew by ${grew} kB over 80,000 frames (${before.rssKb} -> ${after.rssKb})`);
    assert.strictEqual(after.fds, before.fds);
    const r = await host.stop();
    assert.strictEqual(r.code, 0, host.stderr().slice(-3000));
  } finally {
    await host.stop();
  }
});

test('SIGTERM closes every WebSocket with 1001 and the host exits 0 within 5 s, even with a mute client', async () => {
  const host = await startHost({ config: configWith(['ws'], { mode: 'mud' }) });
  try {
    const players = [];
    for (let i = 0; i < 5; i++) {
      const p = await connect(host);
      await p.waitFor((m) => m.type === 'text');
      players.push(p);
    }
    // and one that completed the handshake but never reads or answers a close
    const mute = net.connect(host.port, '127.0.0.1');
    const muteClosed = new Promise((res) => mute.on('close', res));
    mute.write(`GET /tale/ws HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    await new Promise((res) => mute.once('data', res));
    mute.pause();
    const r = await host.stop('SIGTERM', 8000);
    assert.strictEqual(r.signal, null, 'killed instead of exiting');
    assert.strictEqual(r.code, 0, host.stderr());
    assert.ok(r.ms < 5000, `took ${r.ms} ms`);
    for (const p of players) assert.strictEqual((await p.closed).code, 1001);
    mute.resume();
    await muteClosed;
    assert.doesNotMatch(host.stderr(), /Sanitizer|runtime error/);
  } finally {
    await host.stop('SIGKILL');
  }
});
