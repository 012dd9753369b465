// conns.test.js - 5,000 connections opened and held against max_connections
// 1000: the limit answers 503 with a JSON body and closes, the player already
// connected keeps playing, a newcomer is still served (the oldest connection
// that never sent a request makes room), and when the crowd leaves, memory and
// descriptors are back near their baseline.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const net = require('net');
const fs = require('fs');
const { startHost, configWith } = require('../lib/harness');
const { stopClean, sleep, rssKb, fdCount, underSanitizer, rawHttp, bystander } = require('./lib');

// Node raises its own soft fd limit to the hard one at start-up, and the host
// inherits it.  Where the hard limit is too low for 5,000 client sockets the
// crowd shrinks to fit (and says so) rather than failing on EMFILE.
function fdLimit() {
  const m = /Max open files\s+(\d+|unlimited)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
  return !m || m[1] === 'unlimited' ? Infinity : Number(m[1]);
}
const CROWD = Math.min(5000, Math.floor((fdLimit() - 300) / 500) * 500);
const LIMIT = Math.min(1000, CROWD / 5);

// Open one idle connection; `answer` collects anything the server says on it.
function hold(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const c = { sock: s, answer: '', closed: false, open: false };
    s.on('connect', () => { c.open = true; resolve(c); });
    s.on('data', (d) => { c.answer += d; });
    s.on('close', () => { c.closed = true; });
    s.on('error', (e) => { c.error = e.code; resolve(c); });
  });
}

test(`${CROWD} held connections against max_connections ${LIMIT}: 503s, the player plays on, all recovers`, { timeout: 90000 }, async (t) => {
  const host = await startHost({
    config: configWith(['static', 'ws'], { mode: 'mud', limits: { input_rate: 0, max_connections: LIMIT, max_connections_per_address: 0 } }),
  });
  const pid = host.proc.pid;
  if (CROWD < 5000) t.diagnostic(`fd limit ${fdLimit()}: crowd reduced to ${CROWD}, max_connections ${LIMIT}`);
  try {
    const b = await bystander(host, { every: 300, maxMs: 3000 });
    assert.strictEqual((await rawHttp(host.port, 'GET /tale/ HTTP/1.1\r\nHost: x\r\n\r\n')).status, 200);
    await sleep(300);
    const rss0 = rssKb(pid);
    const fds0 = fdCount(pid);

    // open the crowd in waves of 500 so the client's own event loop keeps up
    const crowd = [];
    const t0 = Date.now();
    for (let i = 0; i < CROWD; i += 500) {
      crowd.push(...(await Promise.all(Array.from({ length: 500 }, () => hold(host.port)))));
    }
    const openMs = Date.now() - t0;
    await sleep(1000);
    const refused = crowd.filter((c) => c.closed);
    const held = crowd.filter((c) => !c.closed);
    t.diagnostic(`opened ${CROWD} in ${openMs} ms: ${held.length} held, ${refused.length} refused; host fds ${fdCount(pid)}`);
    assert.ok(crowd.every((c) => !c.error), 'every connect succeeded at TCP level');
    // the bystander's connection is one of the LIMIT
    assert.ok(held.length <= LIMIT - 1 && held.length >= LIMIT - 10, `held ${held.length}`);
    assert.strictEqual(held.length + refused.length, CROWD);
    for (const c of refused) {
      assert.match(c.answer, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
      assert.match(c.answer, /\r\nRetry-After: 5\r\n/);
      assert.match(c.answer, /\r\nConnection: close\r\n/);
      assert.deepStrictEqual(JSON.parse(c.answer.slice(c.answer.indexOf('\r\n\r\n') + 4)), { error: 'the server is at capacity' });
    }
    for (const c of held) assert.strictEqual(c.answer, '', 'held connections are just waiting for a request');
    // the player who was already in keeps playing, and a newcomer is served:
    // the oldest held connection (never answered, over a second old) is
    // closed with the same 503 to make room (issue #11; before, the newcomer got the 503)
    await b.check();
    const late = await rawHttp(host.port, 'GET /tale/ HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.strictEqual(late.status, 200);
    await sleep(200);
    const evicted = held.filter((c) => c.closed);
    assert.strictEqual(evicted.length, 1, 'one idle connection made room');
    assert.match(evicted[0].answer, /^HTTP\/1\.1 503 Service Unavailable\r\n/);

    // the crowd leaves: the host serves newcomers again
    for (const c of crowd) c.sock.destroy();
    const t1 = Date.now();
    while (fdCount(pid) > fds0 + 1 && Date.now() - t1 < 5000) await sleep(100);
    assert.strictEqual((await rawHttp(host.port, 'GET /tale/ HTTP/1.1\r\nHost: x\r\n\r\n')).status, 200);
    await b.check();
    const rss1 = rssKb(pid);
    const fds1 = fdCount(pid);
    t.diagnostic(`RSS ${rss0} -> ${rss1} kB, fds ${fds0} -> ${fds1}; bystander ${b.rounds} looks, worst ${b.worst} ms`);
    assert.ok(fds1 <= fds0 + 1, `fds ${fds0} -> ${fds1}`);
    if (!underSanitizer(pid)) assert.ok(rss1 <= rss0 + Math.max(8192, rss0 * 0.5), `RSS ${rss0} -> ${rss1} kB`);
    await b.stop();
    assert.strictEqual(host.proc.exitCode, null);
  } finally {
    await stopClean(host);
  }
});
