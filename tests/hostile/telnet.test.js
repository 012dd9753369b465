// telnet.test.js - hostile input to the telnet transport (plugins/telnet,
// docs/PROTOCOL.md "Telnet"): IAC floods, a 1 MB subnegotiation, a 1 MB line,
// invalid UTF-8 with NUL and control bytes, a client that never reads, a
// crowd of idle connections and clients that drop mid-negotiation.  Each is
// answered as documented while a WebSocket player and a telnet player keep
// playing, and the host's memory stays near its baseline.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const net = require('net');
const { stopClean, sleep, rssKb, fdCount, underSanitizer, bystander } = require('./lib');
const { startTelnetHost, telnetClient, IAC, SB, SE, DO, WILL } = require('../telnet/lib');

function fdLimit() {
  const m = /Max open files\s+(\d+|unlimited)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
  return !m || m[1] === 'unlimited' ? Infinity : Number(m[1]);
}
// 2,000 in CI (bench/run.sh --telnet holds 5,000), fewer where descriptors are short.
const CROWD = Math.min(Number(process.env.TALE_TELNET_CROWD || 2000), Math.floor((fdLimit() - 300) / 500) * 500);

async function battery(t, opts = {}) {
  const host = await startTelnetHost({
    telnet: { max_line: '4k', max_subnegotiation: '8k', max_backlog: '64k', login_timeout: '3s', ...opts.telnet },
    limits: { max_connections: CROWD + 200, ...opts.limits },
  });
  const b = await bystander(host, { every: 300, maxMs: 3000 });
  // a telnet player who plays all along
  const p = await telnetClient(host.telnetPort);
  p.line('look');
  await p.waitFor(/The Jetty/);
  const pid = host.proc.pid;
  // a failed assertion skips finish(): stop everything anyway, or the open
  // host and the bystander's loop keep the file running until ctest's timeout
  t.after(async () => {
    p.close();
    await b.stop().catch(() => {});
    await host.stop();
  });
  await sleep(200);
  return { host, b, p, pid, rss0: rssKb(pid), fds0: fdCount(pid) };
}

// The telnet player still gets an answer now.
async function stillPlays(p) {
  const mark = p.text.length;
  p.line('look');
  const t0 = Date.now();
  while (!/The Jetty/.test(p.text.slice(mark))) {
    if (Date.now() - t0 > 3000) throw new Error('the telnet player got no answer');
    await sleep(10);
  }
}

async function finish(t, ctx) {
  await stillPlays(ctx.p);
  await ctx.b.check();
  await ctx.b.stop();
  const rss1 = rssKb(ctx.pid);
  t.diagnostic(`RSS ${ctx.rss0} -> ${rss1} kB; bystander ${ctx.b.rounds} looks, worst ${ctx.b.worst} ms`);
  if (!underSanitizer(ctx.pid)) assert.ok(rss1 <= ctx.rss0 + 16384, `RSS grew ${ctx.rss0} -> ${rss1} kB`);
  ctx.p.close();
  await stopClean(ctx.host);
}

test('IAC floods: answered a bounded number of times, then the line still works', { timeout: 60000 }, async (t) => {
  const ctx = await battery(t);
  const c = await telnetClient(ctx.host.telnetPort, { raw: true });
  await c.waitFor(/press Enter/);
  const before = c.bytes;
  // 1 MiB of NOPs, unknown DOs and WILLs, and half-commands
  const unit = Buffer.from([IAC, 241, IAC, DO, 99, IAC, WILL, 98, IAC, 246, IAC, DO, 99]);
  const flood = Buffer.alloc(1 << 20);
  for (let i = 0; i + unit.length <= flood.length; i += unit.length) unit.copy(flood, i);
  for (let i = 0; i < 4; i++) c.sendRaw(flood);
  c.line('');
  c.line('look');
  await c.waitFor(/The Jetty/, 10000);
  const refusals = c.cmds.filter(([cmd, opt]) => opt === 99 || opt === 98).length;
  t.diagnostic(`4 MiB of IAC sequences drew ${refusals} refusals; ${c.bytes - before} bytes back in all`);
  assert.ok(refusals <= 8, `refusals are bounded (${refusals})`);
  c.close();
  await finish(t, ctx);
});

test('a 1 MB subnegotiation (and one never terminated) is dropped; the connection plays on', { timeout: 60000 }, async (t) => {
  const ctx = await battery(t);
  const c = await telnetClient(ctx.host.telnetPort, { accept: [201] });
  await c.waitFor(/press Enter/);
  const big = Buffer.alloc(1 << 20, 0x61);
  c.sendRaw([IAC, SB, 201]);
  c.sendRaw(big);
  c.sendRaw([IAC, SE]);
  c.line('look');
  await c.waitFor(/The Jetty/, 10000);
  c.close();
  // never terminated: the client is stuck in its subnegotiation, memory is not
  const d = await telnetClient(ctx.host.telnetPort);
  d.sendRaw([IAC, SB, 31]);
  for (let i = 0; i < 4; i++) d.sendRaw(big);
  await sleep(500);
  d.close();
  await finish(t, ctx);
});

test('a 1 MB line is refused with one message and dropped; the next line runs', { timeout: 60000 }, async (t) => {
  const ctx = await battery(t);
  const c = await telnetClient(ctx.host.telnetPort);
  c.line('');
  await c.waitFor(/The Jetty/);
  c.send('say ' + 'x'.repeat(1 << 20));
  c.line('');
  c.line('look');
  await c.waitFor(/longer than 4096 bytes; it was ignored[\s\S]*The Jetty/, 10000);
  assert.strictEqual(c.text.split('longer than 4096 bytes').length - 1, 1, 'one message');
  c.close();
  await finish(t, ctx);
});

test('invalid UTF-8, NUL and control bytes never reach the game or other players', { timeout: 60000 }, async (t) => {
  const ctx = await battery(t);
  const c = await telnetClient(ctx.host.telnetPort);
  c.line('');
  await c.waitFor(/The Jetty/);
  c.sendRaw(Buffer.concat([Buffer.from('say caf'), Buffer.from([0xe9, 0x00, 0x1b]), Buffer.from('[31mred'),
    Buffer.from([0x07, 0xc0, 0xaf, 0x0d, 0x0a])]));
  await ctx.p.waitFor(/says: [^\n]*caf\?\[31mred\?\?/, 5000);
  assert.doesNotMatch(ctx.p.text, /\x1b\[31m|\x07|\x00/, 'no raw control byte reached the other telnet player');
  // the telnet player hearing it says nothing of when the web player's frame is read
  const isSay = (m) => m.type === 'text' && /caf\?/.test(m.text);
  for (let i = 0; i < 250 && !ctx.b.msgs.some(isSay); i++) await sleep(20);
  const heard = ctx.b.msgs.filter(isSay);
  assert.ok(heard.length > 0, 'the web player heard it');
  assert.doesNotMatch(heard[0].text, /[\x00-\x08\x1b]/, 'no control byte in the web frame');
  c.close();
  await finish(t, ctx);
});

test('a client that never reads is cut off at max_backlog; memory stays bounded', { timeout: 60000 }, async (t) => {
  const ctx = await battery(t);
  const c = await telnetClient(ctx.host.telnetPort);
  c.line('');
  await c.waitFor(/The Jetty/);
  c.s.pause(); // reads nothing from now on
  // each look answers ~600 bytes: 20,000 of them outrun any socket buffer
  for (let i = 0; i < 40; i++) c.send('look\r\n'.repeat(500));
  const t0 = Date.now();
  while (!/stopped reading \(max_backlog\)/.test(ctx.host.stderr())) {
    if (Date.now() - t0 > 20000) throw new Error(`not cut off:\n${ctx.host.stderr().slice(-2000)}`);
    await sleep(50);
  }
  c.close();
  await finish(t, ctx);
});

test(`${CROWD} idle telnet connections: no seats taken, closed at login_timeout with a line, all recovers`, { timeout: 90000 }, async (t) => {
  const ctx = await battery(t);
  const crowd = [];
  for (let i = 0; i < CROWD; i += 500) {
    crowd.push(...(await Promise.all(Array.from({ length: Math.min(500, CROWD - i) }, () => new Promise((res) => {
      const s = net.connect(ctx.host.telnetPort, '127.0.0.1');
      const c = { s, text: '', closed: false };
      s.on('data', (d) => { c.text += d.toString('latin1'); });
      s.on('close', () => { c.closed = true; });
      s.on('error', () => {});
      s.once('connect', () => res(c));
      s.once('error', () => res(c));
    })))));
  }
  await sleep(500);
  const rssHeld = rssKb(ctx.pid);
  t.diagnostic(`${CROWD} held: RSS ${ctx.rss0} -> ${rssHeld} kB`);
  await stillPlays(ctx.p);
  // nobody is seated: the web player does not see thousands of arrivals
  assert.ok(!ctx.b.msgs.some((m) => m.type === 'text' && /arrives/.test(m.text)), 'idle connections took no seats');
  const t0 = Date.now();
  while (crowd.some((c) => !c.closed)) {
    if (Date.now() - t0 > 15000) throw new Error(`${crowd.filter((c) => !c.closed).length} still open after login_timeout`);
    await sleep(100);
  }
  assert.ok(crowd.every((c) => /Nothing was heard from you; goodbye\./.test(c.text)), 'each was told why');
  const t1 = Date.now();
  while (fdCount(ctx.pid) > ctx.fds0 + 2 && Date.now() - t1 < 5000) await sleep(100);
  assert.ok(fdCount(ctx.pid) <= ctx.fds0 + 2, `descriptors back near baseline (${ctx.fds0} -> ${fdCount(ctx.pid)})`);
  await finish(t, ctx);
});

test('clients that drop mid-negotiation or mid-line leave nothing behind', { timeout: 60000 }, async (t) => {
  const ctx = await battery(t);
  const cuts = [
    [IAC], [IAC, SB], [IAC, SB, 31, 0], [IAC, WILL], [IAC, WILL, 24, IAC, SB, 24, 0, 0x41],
    [...Buffer.from('loo')], [IAC, DO, 86], // MCCP2 agreed, then gone mid-stream
  ];
  for (let round = 0; round < 20; round++) {
    await Promise.all(cuts.map(async (bytes) => {
      const c = await telnetClient(ctx.host.telnetPort, { raw: true });
      c.sendRaw(bytes);
      await sleep(round % 2 ? 0 : 200); // some drop before the seat opens, some after
      c.s.resetAndDestroy ? c.s.resetAndDestroy() : c.close();
    }));
  }
  await sleep(500);
  const t1 = Date.now();
  while (fdCount(ctx.pid) > ctx.fds0 + 2 && Date.now() - t1 < 5000) await sleep(100);
  assert.ok(fdCount(ctx.pid) <= ctx.fds0 + 2, `descriptors back near baseline (${ctx.fds0} -> ${fdCount(ctx.pid)})`);
  await finish(t, ctx);
});

test('telnet connections count in max_connections: past it a newcomer is closed at once, players play on', { timeout: 60000 }, async (t) => {
  const ctx = await battery(t, { limits: { max_connections: 6 } });
  // the bystander's WebSocket and the telnet player hold two; four more fit
  const extra = await Promise.all(Array.from({ length: 10 }, () => telnetClient(ctx.host.telnetPort, { raw: true })));
  await sleep(500);
  const open = extra.filter((c) => !c.closed), shut = extra.filter((c) => c.closed);
  t.diagnostic(`${open.length} admitted, ${shut.length} closed`);
  assert.strictEqual(open.length, 4, 'exactly the room left under max_connections');
  assert.ok(shut.every((c) => c.text === ''), 'a refused connection is closed before the banner');
  for (const c of open) c.close();
  await sleep(200);
  const late = await telnetClient(ctx.host.telnetPort);
  late.line('look');
  await late.waitFor(/The Jetty/);
  late.close();
  await finish(t, ctx);
});
