// exposure.test.js - what the host exposes by default (issue 7, item 5): the
// default config listens on loopback only; a public bind without TLS is
// logged as a warning; session cookies are HttpOnly and SameSite=Strict (and
// Secure under TLS); answers carry nosniff and a Content-Security-Policy that
// our own pages satisfy with no inline script.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const https = require('https');
const { spawnSync } = require('child_process');
const WebSocket = require('ws');
const { startHost, configWith, SRC } = require('../lib/harness');
const { stopClean, rawHttp, header } = require('./lib');

const COOKIE_RE = /^tale_session=[0-9a-f]{32}; Path=\/; HttpOnly; SameSite=Strict$/;
const COOKIE_TLS_RE = /^tale_session=[0-9a-f]{32}; Path=\/; HttpOnly; SameSite=Strict; Secure$/;
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'";

// A throw-away self-signed certificate for 127.0.0.1.
function makeCert() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-hostile-tls-'));
  const cert = path.join(dir, 'server.crt');
  const key = path.join(dir, 'server.key');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  return { dir, cert, key };
}

function listenerConfig(hostAddr, tls) {
  const base = configWith(['static', 'ws', 'sse']);
  const tlsLine = tls ? `\n    tls: { cert: "${tls.cert}", key: "${tls.key}" }` : '';
  return base.replace('  - host: 127.0.0.1\n    port: 0', `  - host: ${hostAddr}\n    port: 0${tlsLine}`);
}

const waitFor = async (pred, ms = 3000) => {
  const t0 = Date.now();
  while (!pred() && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 10));
  return pred();
};

test('the default config listens on loopback only and logs no exposure warning', async () => {
  const text = fs.readFileSync(path.join(SRC, 'conf/tale.yaml'), 'utf8');
  // every listener that is not commented out
  const hosts = [...text.matchAll(/^\s*-\s*host:\s*"?([^"\s#]+)"?/gm)].map((m) => m[1]);
  assert.ok(hosts.length >= 1, 'the default config has a listener');
  for (const h of hosts) assert.ok(['127.0.0.1', '::1', 'localhost'].includes(h), `default listener on ${h}`);
  // and the host agrees: run the default config on a free port with a private data_dir
  const cfg = text
    .replace(/port: 8180/, 'port: 0')
    .replace(/^data_dir: .*$/m, 'data_dir: ${TMP}/var')
    .replace(/^story: stories\//m, 'story: ${SRC}/conf/stories/')
    .replace(/web_root: \.\.\/web/, 'web_root: ${SRC}/web');
  const host = await startHost({ config: cfg });
  try {
    assert.strictEqual(host.hostname, '127.0.0.1');
    assert.doesNotMatch(host.stderr(), /without TLS/);
    const r = await rawHttp(host.port, 'GET /tale/ HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.strictEqual(r.status, 200);
  } finally {
    await stopClean(host);
  }
});

test('binding 0.0.0.0 without TLS logs a warning; with TLS it does not', async () => {
  let host = await startHost({ config: listenerConfig('0.0.0.0') });
  try {
    assert.ok(await waitFor(() => /without TLS/.test(host.stderr())), host.stderr());
    assert.match(host.stderr(), /warn +\[server\] listening on 0\.0\.0\.0 without TLS: session cookies and play cross the network in clear/);
  } finally {
    await stopClean(host); // stop at once: nothing is served on a public address
  }
  const tls = makeCert();
  try {
    host = await startHost({ config: listenerConfig('0.0.0.0', tls) });
    try {
      assert.strictEqual(host.scheme, 'https');
      assert.doesNotMatch(host.stderr(), /without TLS/);
    } finally {
      await stopClean(host);
    }
  } finally {
    fs.rmSync(tls.dir, { recursive: true, force: true });
  }
});

test('session cookies are HttpOnly and SameSite=Strict, unguessable, and not Secure over plain HTTP', async () => {
  const host = await startHost({ config: configWith(['static', 'ws', 'sse'], { mode: 'mud' }) });
  try {
    const seen = new Set();
    // WebSocket handshake
    for (let i = 0; i < 3; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${host.port}/tale/ws`);
      const res = await new Promise((resolve, reject) => { ws.once('upgrade', resolve); ws.once('error', reject); });
      const sc = res.headers['set-cookie'];
      assert.strictEqual(sc.length, 1);
      assert.match(sc[0], COOKIE_RE);
      seen.add(sc[0]);
      ws.terminate();
    }
    // event stream (the transports answer only a Host they know, issue #11)
    const r = await rawHttp(host.port, `GET /tale/eventsource HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\nAccept: text/event-stream\r\n\r\n`, { wait: true, ms: 500 });
    assert.strictEqual(r.status, 200);
    assert.match(header(r.head, 'set-cookie'), COOKIE_RE);
    seen.add(header(r.head, 'set-cookie'));
    assert.strictEqual(seen.size, 4, 'every new session gets its own token');
  } finally {
    await stopClean(host);
  }
});

test('under TLS the session cookie is also Secure (wss and https event stream)', async () => {
  const tls = makeCert();
  try {
    const host = await startHost({ config: listenerConfig('127.0.0.1', tls).replace('mode: if', 'mode: mud') });
    try {
      assert.strictEqual(host.scheme, 'https');
      const ws = new WebSocket(`wss://127.0.0.1:${host.port}/tale/ws`, { rejectUnauthorized: false });
      const res = await new Promise((resolve, reject) => { ws.once('upgrade', resolve); ws.once('error', reject); });
      assert.match(res.headers['set-cookie'][0], COOKIE_TLS_RE);
      ws.terminate();
      const sc = await new Promise((resolve, reject) => {
        const req = https.get({ host: '127.0.0.1', port: host.port, path: '/tale/eventsource', rejectUnauthorized: false }, (res2) => {
          resolve(res2.headers['set-cookie']);
          req.destroy();
        });
        req.on('error', reject);
      });
      assert.match(sc[0], COOKIE_TLS_RE);
    } finally {
      await stopClean(host);
    }
  } finally {
    fs.rmSync(tls.dir, { recursive: true, force: true });
  }
});

test('pages, static files, redirects and errors carry nosniff and the CSP; our pages have no inline script or style', async () => {
  const host = await startHost({ config: configWith(['static', 'ws', 'sse']) });
  try {
    const cases = [
      ['GET', '/', 302], ['GET', '/tale/', 200], ['GET', '/tale/start', 200], ['GET', '/tale/story', 200], ['GET', '/tale/about', 200],
      ['GET', '/tale/static/script.js', 200], ['GET', '/tale/static/style.css', 200], ['GET', '/tale/static/logo.svg', 200],
      ['GET', '/tale/static/resources/jetty.svg', 200], ['GET', '/no/such/page', 404], ['GET', '/tale/static/missing.png', 404],
      ['GET', '/tale/static/%2e%2e/x', 404], ['POST', '/tale/story', 405], ['DELETE', '/tale/static/script.js', 405],
    ];
    // A Host the server knows: in IF mode the game page checks it (issue #11).
    for (const [method, p, status] of cases) {
      const r = await rawHttp(host.port, `${method} ${p} HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\nContent-Length: 0\r\n\r\n`);
      assert.strictEqual(r.status, status, `${method} ${p}`);
      assert.strictEqual(header(r.head, 'x-content-type-options'), 'nosniff', `${method} ${p}`);
      assert.strictEqual(header(r.head, 'content-security-policy'), CSP, `${method} ${p}`);
      if (status === 200 && /text\/html/.test(header(r.head, 'content-type'))) {
        const html = r.body;
        for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
          assert.match(m[1], /\bsrc=/, `${p}: inline <script>`);
          assert.strictEqual(m[2].trim(), '', `${p}: inline script body`);
        }
        assert.doesNotMatch(html, /\son[a-z]+\s*=/i, `${p}: inline event handler`);
        assert.doesNotMatch(html, /\sstyle\s*=/i, `${p}: inline style attribute`);
        assert.doesNotMatch(html, /<style\b/i, `${p}: inline <style>`);
        assert.doesNotMatch(html, /javascript:/i, `${p}: javascript: URL`);
      }
    }
  } finally {
    await stopClean(host);
  }
});

test('the ws and sse plugins\' own answers carry nosniff too',
  async () => {
    const host = await startHost({ config: configWith(['static', 'ws', 'sse']) });
    // A Host the server knows, so that the plugins answer, not the host's Host check (issue #11).
    const h = `Host: 127.0.0.1:${host.port}`;
    try {
      for (const req of [`GET /tale/ws HTTP/1.1\r\n${h}\r\n\r\n`, `GET /tale/tabcomplete?prefix=a HTTP/1.1\r\n${h}\r\n\r\n`,
        `POST /tale/input HTTP/1.1\r\n${h}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 8\r\n\r\ncmd=look`]) {
        const r = await rawHttp(host.port, req);
        assert.strictEqual(header(r.head, 'x-content-type-options'), 'nosniff', req.split('\r\n')[0]);
      }
    } finally {
      await stopClean(host);
    }
  });

test('a drive-by /tale/quit without the cookie ends nothing, and the / redirect ignores the Host header', async () => {
  const host = await startHost({ config: configWith(['static', 'ws']) }); // IF mode: one game
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/tale/ws`);
    const closed = [];
    ws.on('close', (code) => closed.push(code));
    await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
    // A Host the server knows: /tale/quit refuses any other with a 403 (issue #11).
    for (const cookie of ['', 'Cookie: tale_session=00000000000000000000000000000000\r\n', 'Cookie: tale_session=x\r\n']) {
      const r = await rawHttp(host.port, `GET /tale/quit HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\n${cookie}\r\n`);
      assert.strictEqual(r.status, 200);
    }
    assert.match(host.stderr(), /quit without a session: nothing to end/);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepStrictEqual(closed, [], 'the player is still in the game');
    assert.strictEqual(ws.readyState, WebSocket.OPEN);
    ws.close();
    const r = await rawHttp(host.port, 'GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n');
    assert.strictEqual(r.status, 302);
    assert.strictEqual(header(r.head, 'location'), '/tale/');
  } finally {
    await stopClean(host);
  }
});

test('on a TLS listener a handshake that never finishes is cut off at 10 s, and plain HTTP is closed at once', { timeout: 30000 }, async (t) => {
  const tls = makeCert();
  try {
    const host = await startHost({ config: listenerConfig('127.0.0.1', tls) });
    try {
      const net = require('net');
      const attempt = (first, trickle) => new Promise((resolve) => {
        const s = net.connect(host.port, '127.0.0.1');
        const t0 = Date.now();
        let got = 0;
        let i = 0;
        const iv = trickle ? setInterval(() => { if (i < trickle.length && !s.destroyed) s.write(trickle.subarray(i, ++i)); }, 1000) : null;
        const cap = setTimeout(() => { s.destroy(); resolve({ how: 'still open', ms: Date.now() - t0, got }); }, 15000);
        s.on('data', (d) => { got += d.length; });
        s.on('error', () => {});
        s.on('close', () => { clearInterval(iv); clearTimeout(cap); resolve({ how: 'closed', ms: Date.now() - t0, got }); });
        if (first) s.write(first);
      });
      const clientHelloStart = Buffer.from('16030100c8010000c40303', 'hex'); // a ClientHello, one byte a second
      const [silent, slow, plain] = await Promise.all([
        attempt(null), attempt(null, clientHelloStart), attempt('GET /tale/ HTTP/1.1\r\nHost: x\r\n\r\n'),
      ]);
      t.diagnostic(`silent ${silent.ms} ms, trickled hello ${slow.ms} ms, plain HTTP ${plain.ms} ms`);
      for (const r of [silent, slow]) {
        assert.strictEqual(r.how, 'closed');
        assert.ok(r.ms >= 9000 && r.ms <= 13000, `handshake cut off after ${r.ms} ms`);
      }
      assert.strictEqual(plain.how, 'closed');
      assert.ok(plain.ms < 2000, `plain HTTP closed after ${plain.ms} ms`);
      assert.strictEqual(plain.got, 0, 'no plain-text answer on a TLS port');
    } finally {
      await stopClean(host);
    }
  } finally {
    fs.rmSync(tls.dir, { recursive: true, force: true });
  }
});
