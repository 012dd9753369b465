// 1,000 WebSocket connect/disconnect cycles leave the host's resident memory
// and open file descriptors flat; SIGTERM closes players with 1001 and the
// host exits 0 within 5 s.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const { startHost, configWith } = require('../lib/harness');
const { connect } = require('./client');

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
  const host = await startHost({ config: configWith(['ws']) });
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
    assert.ok(grew < 512, `RSS grew by ${grew} kB over 1,000 cycles (${before.rssKb} -> ${after.rssKb})`);
    assert.ok(after.fds <= before.fds + 1, `fds ${before.fds} -> ${after.fds}`);
    assert.strictEqual(host.proc.exitCode, null);
  } finally {
    await host.stop();
  }
});

test('SIGTERM closes every WebSocket with 1001 and the host exits 0 within 5 s', async () => {
  const host = await startHost({ config: configWith(['ws'], { mode: 'mud' }) });
  try {
    const players = [];
    for (let i = 0; i < 5; i++) {
      const p = await connect(host);
      await p.waitFor((m) => m.type === 'text');
      players.push(p);
    }
    const r = await host.stop('SIGTERM', 8000);
    assert.strictEqual(r.signal, null, 'killed instead of exiting');
    assert.strictEqual(r.code, 0, host.stderr());
    assert.ok(r.ms < 5000, `took ${r.ms} ms`);
    for (const p of players) assert.strictEqual((await p.closed).code, 1001);
  } finally {
    await host.stop('SIGKILL');
  }
});
