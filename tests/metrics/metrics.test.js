// metrics.test.js - the metrics plugin and the access log in the real host
// (issue #17): the exposition passes `promtool check metrics`, counts what a
// WebSocket and an event-stream player did, refuses an address outside the
// allowlist with a 403 JSON error; the access log has a line per request and
// per connection end, in json and combined, and starts a new file after a
// rotation (mv + SIGUSR1, mv + SIGHUP).  prometheus.test.js has the real
// Prometheus server.
'use strict';
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const http = require('http');
const { execFileSync } = require('child_process');
const { startHost, configWith } = require('../lib/harness');
const { connect } = require('../ws/client');
const { openRaw } = require('../sse/client');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// GET a path, optionally from another loopback source address.
function get(host, p, { localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: host.port, path: p, localAddress, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

// The value of one sample, e.g. sample(text, 'tale_commands_total{transport="ws"}').
function sample(text, series) {
  for (const line of text.split('\n')) {
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

// promtool is the Debian `prometheus` package's checker: missing is a failure, not a skip.
function promtoolCheckMetrics(text) {
  return execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

// Lines of the access log once the host's flush timer (1 s) has run.
async function logLines(file, pred, ms = 4000) {
  const t0 = Date.now();
  for (;;) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    const lines = text.split('\n').filter((l) => l !== '');
    if (!pred || pred(lines) || Date.now() - t0 > ms) return lines;
    await sleep(100);
  }
}

async function playOverWs(host) {
  const p = await connect(host);
  await p.waitFor((m) => m.type === 'text');
  p.send({ cmd: 'look' });
  await p.waitFor((m) => m.type === 'text', { from: 1 });
  p.ws.close(1000, 'bye');
  await p.closed;
  return p;
}

describe('metrics plugin and json access log', () => {
  let host;
  let logFile;
  before(async () => {
    host = await startHost({
      config: configWith(['ws', 'sse', 'metrics'], {
        mode: 'mud',
        // keepalive: a closed stream is noticed at its next write
        pluginConfig: { metrics: { allow: ['127.0.0.1/32', '::1'] }, sse: { keepalive: '200ms' } },
        extra: 'access_log:\n  path: ${TMP}/access.log\n  format: json',
      }),
    });
    logFile = path.join(host.dir, 'access.log');
  });
  after(async () => {
    const r = await host.stop();
    assert.strictEqual(r.code, 0, host.stderr());
  });

  test('the exposition passes promtool and counts a ws and an sse player', async () => {
    await playOverWs(host);
    const s = await openRaw(host.url);
    assert.strictEqual(s.status, 200);
    await sleep(200);
    s.close();
    await sleep(700);
    const r = await get(host, '/metrics');
    assert.strictEqual(r.status, 200);
    assert.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    promtoolCheckMetrics(r.body); // throws with promtool's complaints on a non-zero exit
    const t = r.body;
    assert.strictEqual(sample(t, 'tale_connections_total{transport="ws"}'), 1, t);
    assert.strictEqual(sample(t, 'tale_connections{transport="ws"}'), 0);
    assert.strictEqual(sample(t, 'tale_disconnects_total{transport="ws",code="1000"}'), 1, t);
    assert.ok(sample(t, 'tale_commands_total{transport="ws"}') >= 1);
    assert.ok(sample(t, 'tale_frames_sent_total{transport="ws"}') >= 2);
    assert.ok(sample(t, 'tale_frame_sent_bytes_total{transport="ws"}') > 100);
    assert.strictEqual(sample(t, 'tale_connections_total{transport="sse"}'), 1, t);
    assert.strictEqual(sample(t, 'tale_disconnects_total{transport="sse",code="none"}'), 1, t);
    assert.strictEqual(sample(t, 'tale_seats{transport="ws"}') + sample(t, 'tale_seats{transport="sse"}'), sample(t, 'tale_sessions'));
    assert.strictEqual(sample(t, 'tale_connections_total{transport="metrics"}'), undefined, 'no series for a plugin that carries no players');
    const cmds = sample(t, 'tale_command_duration_seconds_count');
    assert.ok(cmds >= 1);
    assert.strictEqual(sample(t, 'tale_command_duration_seconds_bucket{le="+Inf"}'), cmds);
    assert.ok(sample(t, 'tale_event_loop_lag_seconds_count') >= 1, 'the lag timer has fired');
    assert.ok(sample(t, 'process_resident_memory_bytes') > 1e6);
    assert.ok(sample(t, 'process_open_fds') >= 4);
    assert.ok(sample(t, 'tale_http_responses_total{code="2xx"}') >= 1);
  });

  test('an address outside the allowlist gets 403 JSON', async () => {
    const r = await get(host, '/metrics', { localAddress: '127.0.0.2' });
    assert.strictEqual(r.status, 403);
    assert.match(r.headers['content-type'], /application\/json/);
    assert.ok(JSON.parse(r.body).error.includes('not served'));
    assert.strictEqual((await get(host, '/metrics')).status, 200, 'the allowed address still gets them');
  });

  test('the access log has a line per request and per connection end', async () => {
    const lines = (await logLines(logFile, (ls) => ls.some((l) => l.includes('"status":403')))).map((l) => JSON.parse(l));
    const scrape = lines.find((l) => l.type === 'http' && l.path === '/metrics' && l.status === 200);
    assert.ok(scrape, JSON.stringify(lines));
    for (const k of ['time', 'client', 'method', 'protocol', 'bytes', 'duration', 'referer', 'user_agent']) assert.ok(k in scrape, k);
    assert.strictEqual(scrape.client, '127.0.0.1');
    assert.ok(scrape.bytes > 1000);
    const refused = lines.find((l) => l.type === 'http' && l.status === 403);
    assert.strictEqual(refused.client, '127.0.0.2');
    const upgrade = lines.find((l) => l.type === 'http' && l.path === '/tale/ws');
    assert.strictEqual(upgrade.status, 101);
    const ws = lines.find((l) => l.type === 'connection' && l.transport === 'ws');
    assert.ok(ws, JSON.stringify(lines));
    assert.strictEqual(ws.code, 1000);
    assert.strictEqual(ws.client, '127.0.0.1');
    assert.ok(ws.frames >= 2 && ws.bytes > 100 && ws.commands === 1 && ws.duration >= 0, JSON.stringify(ws));
    const sse = lines.find((l) => l.type === 'connection' && l.transport === 'sse');
    assert.strictEqual(sse.code, 0);
    const stream = lines.find((l) => l.type === 'http' && l.path.startsWith('/tale/eventsource'));
    assert.ok(stream && stream.status === 200 && stream.duration > 0.1, JSON.stringify(stream));
  });

  for (const signal of ['SIGUSR1', 'SIGHUP']) {
    test(`rotation: mv, then ${signal}, and the new file gets the lines`, async () => {
      await logLines(logFile, (ls) => ls.length > 0);
      const rotated = `${logFile}.${signal}`;
      fs.renameSync(logFile, rotated);
      process.kill(host.proc.pid, signal);
      await sleep(200);
      const before = fs.readFileSync(rotated, 'utf8');
      assert.strictEqual((await get(host, `/metrics?after=${signal}`)).status, 200);
      const lines = await logLines(logFile, (ls) => ls.length > 0);
      assert.ok(lines.some((l) => JSON.parse(l).path === `/metrics?after=${signal}`), lines.join('\n'));
      assert.strictEqual(fs.readFileSync(rotated, 'utf8'), before, 'nothing more goes to the moved file');
      assert.strictEqual(host.proc.exitCode, null, 'the signal did not stop the host');
      assert.match(host.stderr(), /reopened .*access\.log/);
    });
  }
});

describe('combined access log, default allowlist', () => {
  let host;
  before(async () => {
    host = await startHost({
      config: configWith(['ws', 'metrics'], { extra: 'access_log:\n  path: ${TMP}/combined.log\n  format: combined' }),
    });
  });
  after(async () => { await host.stop(); });

  test('combined lines for a request and a connection end', async () => {
    await playOverWs(host);
    const r = await get(host, '/metrics', { localAddress: '127.0.0.2' });
    assert.strictEqual(r.status, 200, 'the default allowlist is loopback: 127.0.0.0/8 and ::1');
    const file = path.join(host.dir, 'combined.log');
    const lines = await logLines(file, (ls) => ls.some((l) => l.includes('END ws')));
    const req = lines.find((l) => l.includes('"GET /metrics HTTP/1.1"'));
    assert.match(req, /^127\.0\.0\.2 - - \[\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/metrics HTTP\/1\.1" 200 \d+ "-" "-"$/);
    const end = lines.find((l) => l.includes('"END ws"'));
    assert.match(end, /^127\.0\.0\.1 - - \[[^\]]+\] "END ws" 1000 \d+ "-" "-" \d+\.\d{3} s, \d+ frames, 1 commands$/);
  });
});
