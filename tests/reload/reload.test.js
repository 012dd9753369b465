// Reload without dropping players (issue #17, docs/DEPLOY.md "Reload"):
// SIGHUP re-reads the config file.  Limits, the log level and the allowed
// origins change in place; a listener change is named in one line and kept;
// a broken file is refused with its located error and the running config
// stays.  One WebSocket player is connected throughout and keeps playing.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const { startHost, configWith } = require('../lib/harness');
const { connect, sleep, stopClean } = require('../ws/client');
const { write, reload, plays } = require('./sighup');

const OTHER_ORIGIN = 'https://game.example';

// The harness's config with our own limits / access lines.
function config({ perAddress, logLevel = 'info', origins = [], port = 0 }) {
  let text = configWith(['ws'], {
    mode: 'mud',
    limits: { input_rate: 0, max_sessions_per_address: perAddress },
    extra: origins.length ? `allowed_origins: ${JSON.stringify(origins)}` : '',
  });
  text = text.replace('log_level: info', `log_level: ${logLevel}`).replace('    port: 0', `    port: ${port}`);
  return text;
}

test('SIGHUP changes limits, origins and log level in place, refuses a broken file, keeps listeners, never drops the player', async () => {
  const host = await startHost({ config: config({ perAddress: 16 }) });
  const file = host.configFile;
  let closed = false;
  try {
    const player = await connect(host);
    player.closed.then(() => { closed = true; });
    await plays(player);

    // before: a page on another origin is refused, a second seat is fine
    await assert.rejects(connect(host, { origin: OTHER_ORIGIN }), (e) => e.status === 403);
    const second = await connect(host);
    await plays(second);
    second.ws.close();
    await second.closed;
    await sleep(100);

    // 1. a lower limit, another origin and the debug level, in place
    let log = await reload(host, config({ perAddress: 1, logLevel: 'debug', origins: [OTHER_ORIGIN] }));
    assert.match(log, /reload done: log level, limits and access lists now as in the file/);
    assert.doesNotMatch(log, /need a restart/);
    await plays(player);
    // the player holds this address's one seat now: a new one is refused (429)
    await assert.rejects(connect(host), (e) => e.status === 429);
    assert.match(host.stderr(), /max_sessions_per_address \(1\) reached/);
    // ... and the other origin is allowed (its seat refused by the limit, not by the origin)
    await assert.rejects(connect(host, { origin: OTHER_ORIGIN }), (e) => e.status === 429);
    assert.match(host.stderr().split('reload done')[1], / debug \[session\] /, 'debug lines once the level is debug');

    // 2. a broken file: refused with file:line:column, nothing changes
    log = await reload(host, config({ perAddress: 16 }).replace('limits:', 'limits:\n  max_sessions_per_address: [1, 2'));
    const located = new RegExp(`reload refused, the running config stays: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: `);
    assert.match(log, located);
    await assert.rejects(connect(host), (e) => e.status === 429, 'the running limit stays');
    await plays(player);

    // 3. a listener change needs a restart: one line names it, the old port keeps serving;
    //    the in-place part of the same edit (the limit back at 16) still applies
    log = await reload(host, config({ perAddress: 16, port: host.port + 1 }));
    const restartLines = log.split('\n').filter((l) => /need a restart/.test(l));
    assert.strictEqual(restartLines.length, 1, log);
    assert.match(restartLines[0], /listeners changed/);
    assert.doesNotMatch(restartLines[0], /limits|allowed_origins/);
    const third = await connect(host); // same port as before; the per-address limit is 16 again
    await plays(third);
    third.ws.close();
    // the origin list went back to none besides the page's own
    await assert.rejects(connect(host, { origin: OTHER_ORIGIN }), (e) => e.status === 403);

    // 4. SIGUSR1 only reopens logs: the config on disk is not re-read
    write(host, config({ perAddress: 1, port: host.port + 1 }));
    const before = host.stderr().length;
    host.proc.kill('SIGUSR1');
    while (!/reopening logs/.test(host.stderr().slice(before))) await sleep(20);
    const fourth = await connect(host);
    fourth.ws.close();

    await plays(player);
    assert.strictEqual(closed, false, 'the player was never disconnected');
    assert.strictEqual(host.proc.exitCode, null);
    player.ws.close();
    await player.closed;
    await stopClean(assert, host);
  } finally {
    await host.stop();
  }
});

test('SIGHUP opens, moves and reformats the access log in place', async () => {
  const withLog = (extra) =>
    configWith(['ws'], { mode: 'mud', limits: { input_rate: 0 }, extra }).replace('log_level: info', 'log_level: info');
  const host = await startHost({ config: withLog('') });
  try {
    const a = `${host.dir}/a.log`, b = `${host.dir}/b.log`;
    const waitFor = async (path, re) => {
      const t0 = Date.now();
      while (!(fs.existsSync(path) && re.test(fs.readFileSync(path, 'utf8')))) {
        if (Date.now() - t0 > 5000) throw new Error(`${path} has no line matching ${re}`);
        await sleep(50);
      }
    };
    let log = await reload(host, withLog('access_log: {path: ${TMP}/a.log, format: json}'));
    assert.match(log, /access log now .*a\.log/);
    let p = await connect(host);
    await plays(p);
    p.ws.close();
    await p.closed;
    await waitFor(a, /"type":"connection".*"transport":"ws"/);

    log = await reload(host, withLog('access_log: {path: ${TMP}/b.log, format: combined}'));
    assert.match(log, /access log now .*b\.log/);
    p = await connect(host);
    await plays(p);
    p.ws.close();
    await p.closed;
    await waitFor(b, /"END ws" \d+ /);
    assert.doesNotMatch(fs.readFileSync(a, 'utf8'), /END ws/, 'the old file gets nothing more');
    await stopClean(assert, host);
  } finally {
    await host.stop();
  }
});
