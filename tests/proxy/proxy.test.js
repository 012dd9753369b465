// tale-host behind the shipped reverse-proxy configs (conf/proxy): nginx and
// HAProxy terminate TLS on loopback and pass the game through.  For each:
// play over WebSocket and over the event stream (POST /tale/input), see
// tale-host count players by the address the proxy names (X-Forwarded-For,
// trusted_proxies), then restart the proxy under the players: each one
// comes back and resumes with nothing lost and nothing repeated.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const { startHost, configWith, makeCert } = require('../lib/harness');
const { connect, sleep, stopClean } = require('../ws/client');
const { openEventSource, postInput } = require('../sse/client');
const { startProxy } = require('./proxies');

// node's fetch (the EventSource's) takes no CA of its own; the WebSocket
// client below is given the test's certificate instead.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

const seqs = (msgs) => msgs.filter((m) => Number.isInteger(m.seq)).map((m) => m.seq);
const gapFree = (list) => list.every((s, i) => s === i + 1);
const says = (what) => (m) => typeof m.text === 'string' && m.text.includes(what);

// The host's log line may trail the answer the client already has.
async function logged(host, re, ms = 3000) {
  const t0 = Date.now();
  while (!re.test(host.stderr())) {
    if (Date.now() - t0 > ms) assert.match(host.stderr(), re);
    await sleep(20);
  }
}

for (const kind of ['nginx', 'haproxy']) {
  test(`behind ${kind}: WebSocket and event stream play, real client addresses, a proxy restart resumes everyone`, async () => {
    const certDir = makeCert();
    const ca = fs.readFileSync(path.join(certDir, 'cert.pem'));
    const host = await startHost({
      config: configWith(['ws', 'sse'], {
        mode: 'mud',
        limits: { input_rate: 0, max_sessions_per_address: 1, linger: '30s' },
        extra: 'trusted_proxies: [127.0.0.1]',
      }),
    });
    const proxy = await startProxy(kind, { hostPort: host.port, certDir });
    // the players' view: the proxy's https address
    const site = { wsBase: proxy.base.replace('https:', 'wss:'), url: proxy.base };
    const from = (localAddress) => ({ options: { ca, localAddress } });
    const open = [];
    let es = null;
    try {
      // two players on two client addresses: one seat each
      const a = await connect(site, from('127.0.0.2'));
      const b = await connect(site, from('127.0.0.3'));
      open.push(a, b);
      for (const p of [a, b]) {
        await p.waitFor((m) => m.type === 'text');
        p.send({ cmd: 'look' });
        await p.waitFor((m) => m.type === 'text' && /Jetty/.test(m.location || ''));
      }
      // a second seat from 127.0.0.2 is refused: tale-host counted the client, not the proxy
      await assert.rejects(connect(site, from('127.0.0.2')), (e) => e.status === 429);
      await logged(host, /refusing a new player from 127\.0\.0\.2: max_sessions_per_address \(1\) reached/);
      assert.doesNotMatch(host.stderr(), /refusing a new player from 127\.0\.0\.1/);

      // the event stream (this client's address: 127.0.0.1), commands by POST
      es = openEventSource(proxy.base);
      let opens = 0;
      es.es.addEventListener('open', () => { opens++; });
      await es.opened;
      await es.waitFor((f) => f.some((x) => x.event === 'text'), 5000, 'the first frame');
      const posted = await postInput(proxy.base, es.jar.cookie, 'cmd=look');
      assert.strictEqual(posted.status, 204, posted.text);
      await es.waitFor((f) => f.some((x) => x.json.location && /Jetty/.test(x.json.location)), 5000, 'the look');

      // everyone hears a yell through the proxy
      a.send({ cmd: 'yell first call' });
      await b.waitFor(says('first call'));
      await es.waitFor((f) => f.some((x) => says('first call')(x.json)), 5000, 'the first yell');

      // the proxy restarts under them
      await a.quiet(200);
      const lastA = Math.max(...seqs(a.msgs));
      const lastB = Math.max(...seqs(b.msgs));
      await proxy.restart();
      await Promise.all([a.closed, b.closed]);

      // b is back first and yells while a is still away
      const b2 = await connect(site, { ...from('127.0.0.3'), cookie: b.cookie, resume: lastB });
      open.push(b2);
      assert.strictEqual(b2.setCookie, null, 'the same seat, not a new one');
      b2.send({ cmd: 'yell while you were out' });
      await b2.waitFor(says('while you were out'));
      // a resumes: the yell it missed comes first, nothing before it again
      const a2 = await connect(site, { ...from('127.0.0.2'), cookie: a.cookie, resume: lastA });
      open.push(a2);
      await a2.waitFor(says('while you were out'));
      assert.strictEqual(seqs(a2.msgs)[0], lastA + 1, 'nothing lost, nothing repeated');
      assert.ok(gapFree(seqs(a.msgs).concat(seqs(a2.msgs))), 'one gap-free sequence across the restart');
      assert.ok(gapFree(seqs(b.msgs).concat(seqs(b2.msgs))));

      // the EventSource reconnected by itself with Last-Event-ID
      await es.waitFor((f) => f.some((x) => says('while you were out')(x.json)), 10000, 'the missed yell');
      assert.strictEqual(opens, 2, 'the stream was cut by the restart and opened again');
      const ids = es.frames.map((x) => Number(x.id));
      assert.ok(gapFree(ids), `event ids 1, 2, 3...: ${ids}`);
      const n = es.frames.length;
      const again = await postInput(proxy.base, es.jar.cookie, 'cmd=look');
      assert.strictEqual(again.status, 204);
      await es.waitFor((f) => f.length > n && f.slice(n).some((x) => /Jetty/.test(x.json.location || '')), 5000, 'the look after the restart');
      es.close();

      for (const p of open) p.ws.close();
      await sleep(100);
      assert.match(proxy.log(), kind === 'nginx' ? /GET \/tale\/ws/ : /tale_https~ tale_host\/tale .*"GET \/tale\/ws/, 'the proxy logged the requests');
      await proxy.stop();
      await stopClean(assert, host);
    } finally {
      if (es !== null) es.close();
      for (const p of open) p.ws.terminate();
      await proxy.stop();
      await host.stop();
    }
  });
}
