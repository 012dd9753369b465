// idle_flood.test.js - connections that never send a byte cannot lock players
// out (issue #11, finding 3).
//  - 3,000 idle connections from 100 loopback addresses (127.0.x.y: the whole
//    127/8 is loopback) against max_connections 1000: a new WebSocket player
//    still gets in and plays (the oldest never-answered connection makes
//    room), and the bystander keeps playing.
//  - One address opening more than max_connections_per_address: the extra
//    connections get the 503, and another address still gets in.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const net = require('net');
const WebSocket = require('ws');
const { startHost, configWith } = require('../lib/harness');
const { stopClean, sleep, fdCount, rawHttp, bystander } = require('./lib');

// One idle connection from a given local address; `answer` collects what the server says.
function hold(port, localAddress) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress });
    const c = { sock: s, answer: '', closed: false };
    s.on('connect', () => resolve(c));
    s.on('data', (d) => { c.answer += d; });
    s.on('close', () => { c.closed = true; });
    s.on('error', (e) => { c.error = e.code; resolve(c); });
  });
}

// A WebSocket player: connect, `look`, resolve with the answer's text (or throw).
async function playOnce(host, localAddress) {
  const ws = new WebSocket(`ws://127.0.0.1:${host.port}/tale/ws`, { origin: host.url, localAddress });
  const msgs = [];
  ws.on('message', (d) => { try { msgs.push(JSON.parse(d.toString())); } catch { /* not ours */ } });
  await new Promise((res, rej) => {
    ws.once('open', res);
    ws.once('error', rej);
    ws.once('unexpected-response', (req, r) => rej(new Error(`handshake answered ${r.statusCode}`)));
    setTimeout(() => rej(new Error('no handshake in 5 s')), 5000);
  });
  ws.send(JSON.stringify({ cmd: 'look' }));
  const t0 = Date.now();
  while (Date.now() - t0 < 5000) {
    const m = msgs.find((x) => x.type === 'text' && /txt-userinput'>look</.test(x.text));
    if (m) { ws.close(); return m.text; }
    await sleep(20);
  }
  ws.close();
  throw new Error('look unanswered in 5 s');
}

const addr = (i) => `127.0.${10 + Math.floor(i / 250)}.${1 + (i % 250)}`;

test('3,000 idle connections from 100 addresses: a new player still gets in and plays', { timeout: 90000 }, async (t) => {
  const LIMIT = 1000;
  const host = await startHost({
    config: configWith(['static', 'ws'], { mode: 'mud', limits: { input_rate: 0, max_connections: LIMIT } }),
  });
  const pid = host.proc.pid;
  try {
    const b = await bystander(host, { every: 300, maxMs: 3000 });
    await sleep(200);
    const fds0 = fdCount(pid);
    const crowd = [];
    for (let w = 0; w < 3000; w += 500) {
      crowd.push(...(await Promise.all(Array.from({ length: 500 }, (_, i) => hold(host.port, addr((w + i) % 100))))));
    }
    await sleep(1200); // the idle crowd is now over the 1 s eviction age
    const held = crowd.filter((c) => !c.closed);
    t.diagnostic(`${held.length} of ${crowd.length} idle connections held; host fds ${fdCount(pid)}`);
    assert.ok(crowd.every((c) => !c.error), 'every connect succeeded at TCP level');
    assert.ok(held.length >= LIMIT - 40 && held.length <= LIMIT, `held ${held.length}`);
    for (const c of crowd.filter((x) => x.closed)) assert.match(c.answer, /^HTTP\/1\.1 503 Service Unavailable\r\n/);

    // a new player (from yet another address) gets in and plays, twice
    assert.match(await playOnce(host, '127.0.99.1'), /look/);
    assert.match(await playOnce(host, '127.0.99.2'), /look/);
    assert.strictEqual((await rawHttp(host.port, 'GET /tale/ HTTP/1.1\r\nHost: x\r\n\r\n')).status, 200);
    await b.check();

    for (const c of crowd) c.sock.destroy();
    const t1 = Date.now();
    while (fdCount(pid) > fds0 + 1 && Date.now() - t1 < 5000) await sleep(100);
    assert.ok(fdCount(pid) <= fds0 + 1, `fds back to ${fds0}`);
    await b.stop();
  } finally {
    await stopClean(host);
  }
});

test('one address over max_connections_per_address gets 503; another address still gets in', { timeout: 60000 }, async () => {
  const host = await startHost({
    config: configWith(['static', 'ws'], {
      mode: 'mud',
      limits: { input_rate: 0, max_connections: 1000, max_connections_per_address: 10 },
    }),
  });
  let crowd = [];
  try {
    const b = await bystander(host, { every: 300, maxMs: 3000 });
    crowd = await Promise.all(Array.from({ length: 100 }, () => hold(host.port, '127.0.5.5')));
    await sleep(500);
    const held = crowd.filter((c) => !c.closed);
    const refused = crowd.filter((c) => c.closed);
    assert.strictEqual(held.length, 10, `held ${held.length}`);
    assert.strictEqual(refused.length, 90);
    for (const c of refused) {
      assert.match(c.answer, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
      assert.deepStrictEqual(JSON.parse(c.answer.slice(c.answer.indexOf('\r\n\r\n') + 4)), { error: 'the server is at capacity' });
    }
    // logged once at warn (at most once a minute), the rest at debug
    const warns = host.stderr().split('\n').filter((l) => /max_connections_per_address/.test(l) && /warn/.test(l));
    assert.strictEqual(warns.length, 1, host.stderr());

    // another address plays; the full one is served again once it lets go
    assert.match(await playOnce(host, '127.0.6.6'), /look/);
    for (const c of held) c.sock.destroy();
    await sleep(300);
    assert.match(await playOnce(host, '127.0.5.5'), /look/);
    await b.stop();
  } finally {
    for (const c of crowd) c.sock.destroy();
    await stopClean(host);
  }
});
