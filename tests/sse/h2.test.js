// h2.test.js - the sse plugin over HTTP/2 on a TLS listener (http2: true),
// checked with `curl --http2 -k` and node's http2 client: the stream and its
// headers, input over a second HTTP/2 stream, a reset stream detaching the
// seat at once, and SIGTERM ending the stream cleanly.
'use strict';
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert');
const { execFile } = require('child_process');
const fs = require('fs');
const http2 = require('http2');
const os = require('os');
const path = require('path');
const { startHost, makeCert } = require('../lib/harness');
const { parseBlocks } = require('./client');

function tlsConfig(certDir, { keepalive = '500ms', tick = '1s' } = {}) {
  return [
    'mode: if',
    'story: ${SRC}/conf/stories/lighthouse',
    'data_dir: ${TMP}/var',
    'autosave: false',
    `tick: ${tick}`,
    'log_level: info',
    'listeners:',
    '  - host: 127.0.0.1',
    '    port: 0',
    `    tls: { cert: ${path.join(certDir, 'cert.pem')}, key: ${path.join(certDir, 'key.pem')} }`,
    '    http2: true',
    'plugins:',
    '  - name: sse',
    '    module: sse',
    '    config:',
    `      keepalive: ${keepalive}`,
    '',
  ].join('\n');
}

function curl(args, timeoutMs = 10000) {
  return new Promise((resolve) => {
    execFile('curl', args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? -1) : 0, stdout, stderr });
    });
  });
}

// An event stream over node's http2 client.
function openH2Stream(session, cookie, extra = {}) {
  const req = session.request({ ':path': '/tale/eventsource', ...(cookie ? { cookie } : {}), ...extra });
  const s = { req, events: [], comments: [], raw: '', ended: false, reset: false, headers: null, waiters: [] };
  const poke = () => {
    s.waiters = s.waiters.filter((w) => {
      if (w.pred(s)) { clearTimeout(w.timer); w.resolve(s); return false; }
      return true;
    });
  };
  s.waitFor = (pred, ms = 5000, what = 'condition') => (pred(s) ? Promise.resolve(s) : new Promise((resolve, reject) => {
    const w = { pred, resolve };
    w.timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; raw tail ${JSON.stringify(s.raw.slice(-300))}`)), ms);
    s.waiters.push(w);
  }));
  s.response = new Promise((resolve) => req.on('response', (h) => { s.headers = h; resolve(h); poke(); }));
  let buf = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => {
    s.raw += chunk;
    buf += chunk;
    const [evs, rest] = parseBlocks(buf);
    buf = rest;
    for (const ev of evs) {
      s.comments.push(...ev.comments);
      if (ev.event !== null) s.events.push(ev);
    }
    poke();
  });
  req.on('end', () => { s.ended = true; poke(); });
  req.on('close', () => { s.reset = req.rstCode !== 0 && req.rstCode !== undefined; s.closed = true; poke(); });
  req.on('error', (e) => { s.error = e; poke(); });
  s.frames = () => s.events.filter((e) => e.event === 'text' || e.event === 'data').map((e) => ({ ...e, json: JSON.parse(e.data) }));
  return s;
}

function h2post(session, cookie, body) {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': '/tale/input', cookie,
      'content-type': 'application/x-www-form-urlencoded' });
    let status;
    let text = '';
    req.on('response', (h) => { status = h[':status']; });
    req.setEncoding('utf8');
    req.on('data', (d) => { text += d; });
    req.on('end', () => resolve({ status, text }));
    req.on('error', reject);
    req.end(body);
  });
}

describe('sse over HTTP/2 (TLS)', () => {
  let certDir;
  let host;
  // IF mode has one seat, and a request without its cookie never gets it
  // (issue #11): the first cookieless stream (curl's) takes the seat, and
  // later streams in this game carry its cookie.
  let seat = null;
  before(async () => {
    certDir = makeCert();
    host = await startHost({ config: tlsConfig(certDir) });
    assert.strictEqual(host.scheme, 'https');
  });
  after(async () => {
    if (host) await host.stop();
    if (certDir) fs.rmSync(certDir, { recursive: true, force: true });
  });

  test('curl --http2 gets the event stream, a Secure cookie, and can post input', async () => {
    const jar = path.join(certDir, 'jar.txt');
    const hdrs = path.join(certDir, 'headers.txt');
    // The stream never ends by itself: read for 2 s (curl exits 28 on --max-time).
    const s = await curl(['--http2', '-k', '-sS', '-N', '--max-time', '2', '-D', hdrs, '-c', jar,
      `${host.url}/tale/eventsource`]);
    assert.strictEqual(s.code, 28, `curl ended early: ${s.stderr}`);
    const head = fs.readFileSync(hdrs, 'utf8');
    assert.match(head, /^HTTP\/2 200/, head);
    assert.match(head, /content-type: text\/event-stream/i);
    assert.match(head, /cache-control: no-cache/i);
    assert.match(head, /x-accel-buffering: no/i);
    assert.match(head, /set-cookie: tale_session=[0-9a-f]{32};.*Secure/i);
    seat = /set-cookie: (tale_session=[0-9a-f]{32})/i.exec(head)[1];
    const [events] = parseBlocks(s.stdout);
    const frames = events.filter((e) => e.event === 'text');
    assert.ok(frames.length > 0, s.stdout.slice(0, 300));
    for (const f of frames) assert.strictEqual(JSON.parse(f.data).seq, Number(f.id));

    const p = await curl(['--http2', '-k', '-sS', '-b', jar, '-o', '/dev/null', '-w', '%{http_code} %{http_version}',
      '--data', 'cmd=look', `${host.url}/tale/input`]);
    assert.strictEqual(p.code, 0, p.stderr);
    assert.strictEqual(p.stdout, '204 2');
    const bad = await curl(['--http2', '-k', '-sS', '-w', ' %{http_code}', '--data', 'cmd=look', `${host.url}/tale/input`]);
    assert.match(bad.stdout, /^\{"error":".+"\} 401$/);
  });

  test('input on one HTTP/2 stream is answered on the event stream; a reset stream detaches at once', async () => {
    const session = http2.connect(host.url, { rejectUnauthorized: false });
    try {
      if (seat === null) { // run alone: this stream is the first visitor and takes the seat
        const first = openH2Stream(session, null);
        const h0 = await first.response;
        assert.strictEqual(h0[':status'], 200);
        seat = h0['set-cookie'][0].split(';')[0];
        first.req.close();
      }
      const cookie = seat;
      const a = openH2Stream(session, cookie);
      const h = await a.response;
      assert.strictEqual(h[':status'], 200);
      await a.waitFor((x) => x.frames().length > 0, 5000, 'backlog');
      const n = a.frames().length;
      const r = await h2post(session, cookie, 'cmd=inventory');
      assert.strictEqual(r.status, 204);
      await a.waitFor((x) => x.frames().slice(n).some((f) => /inventory/.test(f.json.text || '')), 5000, 'the answer');
      const seen = Number(a.frames()[a.frames().length - 1].id);

      // Reset the stream: over HTTP/2 h2o calls stop() at once, which detaches.
      const before = (host.stderr().match(/taken over/g) || []).length;
      a.req.close(http2.constants.NGHTTP2_CANCEL);
      await new Promise((r2) => setTimeout(r2, 200));
      assert.strictEqual((await h2post(session, cookie, 'cmd=look')).status, 204);
      const b = openH2Stream(session, cookie, { 'last-event-id': String(seen) });
      await b.response;
      await b.waitFor((x) => x.frames().some((f) => /look/.test(f.json.text || '')), 5000, 'the held look answer');
      assert.strictEqual(Number(b.frames()[0].id), seen + 1, 'resume starts right after the last seen id');
      const after = (host.stderr().match(/taken over/g) || []).length;
      assert.strictEqual(after, before, 'the reset stream had been detached, so nothing was taken over');
      b.req.close();
    } finally {
      session.close();
    }
  });
});

describe('sse over HTTP/2 shutdown', () => {
  test('SIGTERM ends an HTTP/2 event stream cleanly and the host exits 0 within 5 s', async () => {
    const certDir = makeCert();
    const host = await startHost({ config: tlsConfig(certDir, { keepalive: '15s' }) });
    const session = http2.connect(host.url, { rejectUnauthorized: false });
    session.on('error', () => {});
    try {
      const s = openH2Stream(session, null);
      await s.response;
      await s.waitFor((x) => x.frames().length > 0, 5000, 'backlog');
      const exited = host.stop('SIGTERM', 8000);
      await s.waitFor((x) => x.ended || x.error || x.reset, 5000, 'end of stream');
      assert.ok(s.ended && !s.error, `ended cleanly (END_STREAM): error=${s.error}`);
      const close = s.events.find((e) => e.event === 'close');
      assert.ok(close);
      assert.strictEqual(JSON.parse(close.data).code, 1001);
      const { code, ms } = await exited;
      assert.strictEqual(code, 0, host.stderr());
      assert.ok(ms < 5000, `exit took ${ms} ms`);
    } finally {
      session.destroy();
      await host.stop('SIGKILL', 1000);
      fs.rmSync(certDir, { recursive: true, force: true });
    }
  });
});
