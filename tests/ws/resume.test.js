// Resume and take-over against the real host: a forced disconnect followed by
// ?resume=<last seq> loses and duplicates nothing; a second connection to the
// same seat closes the first with 4001.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { startHost, configWith } = require('../lib/harness');
const { connect, sleep, stopClean } = require('./client');

const seqs = (msgs) => msgs.filter((m) => Number.isInteger(m.seq)).map((m) => m.seq);

test('resume after a forced disconnect replays exactly the missed frames, in order', async () => {
  // a short tick: the harbour's NPCs keep producing output while nobody is connected
  const host = await startHost({ config: configWith(['ws'], { tick: '50ms' }) });
  try {
    const a = await connect(host);
    await a.waitFor((m) => m.type === 'text');
    a.send({ cmd: 'north' });
    await a.waitFor((m) => m.location === 'The Harbour');
    await sleep(300);
    a.ws.terminate(); // no close handshake: the server sees the TCP connection die
    await a.closed;
    const seen = seqs(a.msgs);
    const last = Math.max(...seen);
    assert.deepStrictEqual(seen, Array.from({ length: seen.length }, (_, i) => i + 1));

    await sleep(1500); // ticks go on without a connection
    const b = await connect(host, { cookie: a.cookie, resume: last });
    assert.strictEqual(b.setCookie, null, 'a known cookie is not replaced');
    await b.waitFor((m) => Number.isInteger(m.seq));
    assert.deepStrictEqual(b.msgs[0], { type: 'connected' });
    const replayed = seqs(b.msgs);
    assert.ok(replayed.length >= 1, 'frames produced while disconnected were held');
    assert.strictEqual(replayed[0], last + 1, 'nothing lost, nothing repeated');

    const from = b.msgs.length;
    b.send({ cmd: 'look' });
    await b.waitFor((m) => m.type === 'text' && m.location === 'The Harbour', { from });
    const all = seen.concat(seqs(b.msgs));
    assert.deepStrictEqual(all, Array.from({ length: all.length }, (_, i) => i + 1), 'one gap-free sequence');
    b.ws.close();
    await b.closed;
    await stopClean(assert, host);
  } finally {
    await host.stop();
  }
});

test('resume=0 with the cookie replays the whole held backlog', async () => {
  const host = await startHost({ config: configWith(['ws']) });
  try {
    const a = await connect(host);
    a.send({ cmd: 'look' });
    await a.waitFor((m) => m.location === 'The Jetty');
    await a.quiet(200);
    a.ws.close();
    await a.closed;
    const b = await connect(host, { cookie: a.cookie, resume: 0 });
    await b.waitFor((m) => m.location === 'The Jetty');
    await b.quiet(200);
    assert.deepStrictEqual(seqs(b.msgs), seqs(a.msgs));
    await stopClean(assert, host);
  } finally {
    await host.stop();
  }
});

test('a second connection takes the seat over: the first is closed with 4001', async () => {
  const host = await startHost({ config: configWith(['ws']) });
  try {
    const a = await connect(host);
    await a.waitFor((m) => m.type === 'text');
    const b = await connect(host, { cookie: a.cookie, resume: 0 });
    const closed = await a.closed;
    assert.strictEqual(closed.code, 4001);
    assert.ok(closed.reason.length > 0, 'the page can show why');
    const from = b.msgs.length;
    b.send({ cmd: 'look' });
    await b.waitFor((m) => m.location === 'The Jetty', { from });
    assert.strictEqual(b.ws.readyState, 1);
    await stopClean(assert, host);
  } finally {
    await host.stop();
  }
});
