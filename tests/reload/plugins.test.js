// A plugin's own config on SIGHUP (issue #17): the metrics plugin takes a
// new allowlist in place (a scrape from 127.0.0.2 goes 403 -> 200 -> 403),
// refuses a bad one with file:line:column and keeps the running list, and
// names a new path as needing a restart; a plugin without a reload callback
// (sse) has its config change named as needing a restart.  A WebSocket
// player stays connected throughout.  The ws plugin takes its timeouts in
// place: a lowered idle_timeout drops a silent player.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const http = require('http');
const { startHost, configWith } = require('../lib/harness');
const { connect, stopClean } = require('../ws/client');
const { reload, plays } = require('./sighup');

function config({ allow = ['127.0.0.1/32'], path, keepalive = '15s' } = {}) {
  const metrics = { allow };
  if (path) metrics.path = path;
  return configWith(['ws', 'sse', 'metrics'], {
    mode: 'mud',
    pluginConfig: { metrics, sse: { keepalive } },
  });
}

// The status of a GET from a given loopback source address.
function status(host, path, localAddress) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: host.port, path, localAddress, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

const restartLines = (log) => log.split('\n').filter((l) => /need a restart/.test(l));

test('SIGHUP hands a plugin its changed config: the metrics allowlist changes in place', async () => {
  const host = await startHost({ config: config() });
  let closed = false;
  try {
    const player = await connect(host);
    player.closed.then(() => { closed = true; });
    await plays(player);
    assert.strictEqual(await status(host, '/metrics', '127.0.0.1'), 200);
    assert.strictEqual(await status(host, '/metrics', '127.0.0.2'), 403);

    // 1. a wider allowlist, in place: no restart named
    let log = await reload(host, config({ allow: ['127.0.0.1/32', '127.0.0.2'] }));
    assert.match(log, /plugin 'metrics' took its new config in place/);
    assert.match(log, /reload done: plugin settings now as in the file/);
    assert.deepStrictEqual(restartLines(log), []);
    assert.strictEqual(await status(host, '/metrics', '127.0.0.2'), 200);

    // 2. the same file again: nothing to hand over (compared with what the plugin took)
    log = await reload(host, config({ allow: ['127.0.0.1/32', '127.0.0.2'] }));
    assert.doesNotMatch(log, /plugin 'metrics'/);
    assert.match(log, /reload done: nothing that applies in place changed/);

    // 3. a bad entry: refused, located at the entry, and the running list stays
    const bad = config({ allow: ['127.0.0.1/32', 'not-an-address'] });
    log = await reload(host, bad);
    const m = log.match(/plugin 'metrics' refused its new config and keeps the running one: (.+):(\d+):(\d+): (.*)/);
    assert.ok(m, log);
    assert.strictEqual(m[1], host.configFile);
    const line = fs.readFileSync(host.configFile, 'utf8').split('\n')[Number(m[2]) - 1];
    assert.strictEqual(line.slice(Number(m[3]) - 1, Number(m[3]) - 1 + '"not-an-address"'.length), '"not-an-address"');
    assert.match(m[4], /'allow' entry 'not-an-address' is not an address or a CIDR range/);
    assert.strictEqual(await status(host, '/metrics', '127.0.0.2'), 200, 'the running allowlist stays');

    // 4. a new path needs a restart (named once); the narrower list of the same edit applies
    log = await reload(host, config({ allow: ['127.0.0.1/32'], path: '/stats' }));
    let lines = restartLines(log);
    assert.strictEqual(lines.length, 1, log);
    assert.match(lines[0], /plugin 'metrics' path changed/);
    assert.strictEqual(await status(host, '/metrics', '127.0.0.2'), 403);
    assert.strictEqual(await status(host, '/metrics', '127.0.0.1'), 200, 'still served at the mounted path');
    assert.strictEqual(await status(host, '/stats', '127.0.0.1'), 404);

    // 5. a plugin without a reload callback: its change is named, as before
    log = await reload(host, config({ allow: ['127.0.0.1/32'], path: '/stats', keepalive: '5s' }));
    lines = restartLines(log);
    assert.strictEqual(lines.length, 1, log);
    assert.match(lines[0], /plugin 'sse' config/);
    assert.doesNotMatch(lines[0], /metrics/);

    await plays(player);
    assert.strictEqual(closed, false, 'the player was never disconnected');
    player.ws.close();
    await player.closed;
    await stopClean(assert, host);
  } finally {
    await host.stop();
  }
});

test('SIGHUP changes the ws timeouts in place, and names a new ws path for a restart', async () => {
  const ws = (cfg) => configWith(['ws'], { mode: 'mud', pluginConfig: { ws: cfg } });
  const host = await startHost({ config: ws({ ping_interval: '30s', idle_timeout: '75s' }) });
  try {
    const player = await connect(host);
    await plays(player);

    // a refused value keeps the running timeouts, located at the key
    let log = await reload(host, ws({ ping_interval: '30s', idle_timeout: '10s' }));
    assert.match(log, /plugin 'ws' refused its new config and keeps the running one: .+:\d+:\d+: ws: idle_timeout must be longer than ping_interval/);

    // the path waits for a restart; the same edit's timeouts apply now:
    // a player silent for 1 s (no pings to answer) is dropped
    log = await reload(host, ws({ path: '/game/ws', ping_interval: 0, idle_timeout: '1s' }));
    const lines = restartLines(log);
    assert.strictEqual(lines.length, 1, log);
    assert.match(lines[0], /plugin 'ws' path changed/);
    const t0 = Date.now();
    await player.closed;
    assert.ok(Date.now() - t0 < 4000, 'dropped by the new idle_timeout');
    assert.match(host.stderr(), /dropping a connection silent for \d+ ms/);

    // still served at the mounted path
    const again = await connect(host);
    await plays(again);
    again.ws.close();
    await again.closed;
    await stopClean(assert, host);
  } finally {
    await host.stop();
  }
});
