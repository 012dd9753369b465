// http.test.js - hostile HTTP/1.1 over raw loopback sockets: slowloris, a body
// that never comes, oversized request lines and headers, conflicting framing
// headers and path traversal spellings.  A bystander player plays throughout;
// every answer is the one docs/SECURITY.md documents.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const net = require('net');
const { startHost, configWith } = require('../lib/harness');
const { stopClean, sleep, rssKb, fdCount, underSanitizer, rawHttp, header, bystander } = require('./lib');

let host;
let b;
test.before(async () => {
  host = await startHost({ config: configWith(['static', 'ws', 'sse'], { mode: 'mud' }) });
  b = await bystander(host);
});
test.after(async () => {
  if (b) await b.stop();
  if (host) {
    await stopClean(host);
  }
});

// Open a connection and write `chunks` one per `everyMs`; resolve how and when it ended.
function trickle(port, first, { everyMs = 1000, next = 'a', maxMs = 16000 } = {}) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const t0 = Date.now();
    let got = '';
    let sent = 0;
    s.write(first);
    const iv = everyMs > 0 ? setInterval(() => { if (!s.destroyed) { s.write(next); sent++; } }, everyMs) : null;
    const done = (how) => {
      if (iv) clearInterval(iv);
      clearTimeout(cap);
      s.destroy();
      resolve({ how, ms: Date.now() - t0, got, sent });
    };
    const cap = setTimeout(() => done('still open'), maxMs);
    s.on('data', (d) => { got += d; });
    s.on('close', () => done('closed by server'));
    s.on('error', () => {});
  });
}

test('slowloris headers and bodies that never finish are cut off at 10 s; the bystander plays on', { timeout: 30000 }, async (t) => {
  const fds0 = fdCount(host.proc.pid);
  const attacks = [];
  // headers, one byte a second
  for (let i = 0; i < 20; i++) attacks.push(trickle(host.port, 'GET /tale/ HTTP/1.1\r\nHost: x\r\nX-Slow: ', { next: 'a' }));
  // a POST that announces a body and sends none
  for (let i = 0; i < 10; i++) {
    attacks.push(trickle(host.port, 'POST /tale/input HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n', { everyMs: 0 }));
  }
  // a POST body trickled one byte a second
  for (let i = 0; i < 10; i++) {
    attacks.push(trickle(host.port, 'POST /tale/input HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n', { next: 'c' }));
  }
  await sleep(3000);
  await b.check();
  const results = await Promise.all(attacks);
  for (const r of results) {
    assert.strictEqual(r.how, 'closed by server');
    assert.ok(r.ms >= 9000 && r.ms <= 13000, `cut off after ${r.ms} ms (h2o req_timeout is 10 s)`);
    assert.strictEqual(r.got, '', 'closed without an answer');
  }
  t.diagnostic(`40 slow connections cut off after ${Math.min(...results.map((r) => r.ms))}..${Math.max(...results.map((r) => r.ms))} ms`);
  await b.check();
  await sleep(200);
  assert.ok(fdCount(host.proc.pid) <= fds0 + 1, 'their sockets are released');
});

test('oversized request lines, headers and bodies: 400 / 413 and the connection closed', async () => {
  // h2o reads at most H2O_MAX_REQLEN (8192 + 4096 * 100 bytes) of request head and 100 headers
  const cases = [
    ['500 kB request line', `GET /tale/${'a'.repeat(500000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 400],
    ['one 500 kB header', `GET /tale/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(500000)}\r\n\r\n`, 400],
    ['200 headers', `GET /tale/ HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 200 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`, 400],
    ['Content-Length over limits.max_request_body', 'POST /tale/input HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n', 413],
    ['Content-Length of 20 digits', 'POST /tale/input HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n', 400],
    ['negative Content-Length', 'POST /tale/input HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', 400],
  ];
  for (const [name, req, status] of cases) {
    const r = await rawHttp(host.port, req, { wait: true, ms: 4000 });
    assert.strictEqual(r.status, status, `${name}: ${r.head.slice(0, 200)}`);
    // Closing with the rest of a 500 kB request still unread makes the kernel
    // send a reset, which the client sees as an error after the answer: a close too.
    assert.ok(r.how === 'closed' || r.how === 'error', `${name}: the server closes the connection (${r.how})`);
    assert.match(header(r.head, 'connection') || '', /close/i, name);
  }
  // a long line under the limit is an ordinary request: 404 from the static catch-all
  const r = await rawHttp(host.port, `GET /tale/${'a'.repeat(64000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
  assert.strictEqual(r.status, 404);
  await b.check();
});

test('broken framing: unknown transfer codings, bad chunks and Content-Length lists are 400 with a close', async () => {
  const cases = [
    ['Transfer-Encoding: gzip, chunked', 'POST /tale/input HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', /unknown transfer-encoding/],
    ['a chunk size that is not hex', 'POST /tale/input HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /broken chunked-encoding/],
    ['Content-Length: 5, 7', 'POST /tale/input HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 7\r\n\r\ncmd=lok', /broken content-length/],
    ['space before the colon', 'POST /tale/input HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc', /Bad Request/],
  ];
  for (const [name, req, body] of cases) {
    const r = await rawHttp(host.port, req, { wait: true, ms: 4000 });
    assert.strictEqual(r.status, 400, `${name}: ${r.head.slice(0, 200)}`);
    assert.match(r.body, body, name);
    assert.strictEqual(r.how, 'closed', `${name}: closed`);
  }
  await b.check();
});

// Content-Length and Transfer-Encoding together: h2o 2.2.5 frames the body by
// Transfer-Encoding (RFC 9112 6.3) and so reads the bytes after the chunked
// body as the next request, consistently; nothing is smuggled past tale-host
// itself.  RFC 9112 also says the server MUST close the connection after
// answering such a request (a proxy in front may have framed it by
// Content-Length); h2o keeps it open.  The second test is that requirement,
// marked todo until the host refuses such requests (docs/SECURITY.md).
// The transports answer only a Host they know (issue #11): these requests
// name 127.0.0.1, so that what answers is /tale/input, not the Host check.
const CLTE = 'POST /tale/input HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n' +
  'Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\ncmd=l\r\n0\r\n\r\nGET /tale/about HTTP/1.1\r\nHost: x\r\n\r\n';
const CLCL = 'POST /tale/input HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n' +
  'Content-Length: 7\r\nContent-Length: 5\r\n\r\ncmd=lokGET /tale/about HTTP/1.1\r\nHost: x\r\n\r\n';

test('Content-Length with Transfer-Encoding: the body is framed by Transfer-Encoding', async () => {
  const r = await rawHttp(host.port, CLTE, { wait: true, ms: 1500 });
  const statuses = [...r.text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
  // 401: the chunked body reached /tale/input (no session cookie); 200: the next request is /tale/about
  assert.deepStrictEqual(statuses, [401, 200]);
  await b.check();
});

test('Content-Length with Transfer-Encoding, or two different Content-Lengths, is refused and the connection closed',
  { todo: 'h2o 2.2.5 accepts both and keeps the connection alive; needs a host-side framing guard (reported)' }, async () => {
    for (const req of [CLTE, CLCL]) {
      const r = await rawHttp(host.port, req, { wait: true, ms: 1500 });
      assert.strictEqual(r.status, 400);
      assert.strictEqual(r.how, 'closed');
      assert.doesNotMatch(r.text, /About/);
    }
  });

test('path traversal spellings are 404 with the security headers; nothing outside the roots leaks', async () => {
  const spellings = [
    '/tale/static/../../etc/passwd',
    '/tale/static/%2e%2e/%2e%2e/etc/passwd',
    '/tale/static/%2e%2e%2f%2e%2e%2fetc/passwd',
    '/tale/static/..%2f..%2fetc%2fpasswd',
    '/tale/static/%252e%252e%252fetc/passwd',
    '/tale/static/..\\..\\etc\\passwd',
    '/tale/static/..%5c..%5cetc/passwd',
    '/tale/static/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd',
    '/tale/static/.%2e/.%2e/etc/passwd',
    '/tale/static/....//....//etc/passwd',
    '/tale/static/./../../CMakeLists.txt',
    '/tale/static/resources/../../../../CMakeLists.txt',
    '/tale/static/resources/%2e%2e/story.yaml',
    '/tale/static/resources/..;/story.yaml',
    '/tale/static/script.js%00.png',
    '/tale/static/%2fetc%2fpasswd',
    '/tale/static//etc/passwd',
    '/tale/static/.git/config',
    '//etc/passwd',
    '/../../../../etc/passwd',
    '/tale/x/../../../etc/passwd',
  ];
  for (const p of spellings) {
    const r = await rawHttp(host.port, `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.strictEqual(r.status, 404, `${p}: ${r.head.split('\r\n')[0]}`);
    assert.doesNotMatch(r.body, /root:|cmake_minimum_required|locations:|\[core\]/, `${p} leaks a file`);
    assert.strictEqual(header(r.head, 'x-content-type-options'), 'nosniff', p);
    assert.ok(header(r.head, 'content-security-policy'), `${p}: CSP on the error`);
  }
  assert.match(host.stderr(), /\[static\] refused path traversal \(dot-dot segment\) from 127\.0\.0\.1: \/tale\/static\/\.\.\/\.\.\/etc\/passwd/);
  assert.match(host.stderr(), /\[static\] refused path traversal \(encoded dot, slash, backslash or NUL\)/);
  // the control: real files are served
  assert.strictEqual((await rawHttp(host.port, 'GET /tale/static/script.js HTTP/1.1\r\nHost: x\r\n\r\n')).status, 200);
  assert.strictEqual((await rawHttp(host.port, 'GET /tale/static/resources/jetty.svg HTTP/1.1\r\nHost: x\r\n\r\n')).status, 200);
  await b.check();
});

test('memory after the HTTP battery is back near its baseline', async (t) => {
  // The baseline is taken late on purpose: this file's host has already seen
  // every case once; a second full round must not grow it.
  const pid = host.proc.pid;
  const round = async () => {
    await rawHttp(host.port, `GET /tale/${'a'.repeat(500000)} HTTP/1.1\r\nHost: x\r\n\r\n`, { wait: true, ms: 2000 });
    await rawHttp(host.port, `GET /tale/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(300000)}\r\n\r\n`, { wait: true, ms: 2000 });
    await rawHttp(host.port, CLTE, { wait: true, ms: 300 });
    for (let i = 0; i < 20; i++) await rawHttp(host.port, 'GET /tale/static/%2e%2e/x HTTP/1.1\r\nHost: x\r\n\r\n');
  };
  await round();
  await sleep(300);
  const rss0 = rssKb(pid);
  for (let i = 0; i < 5; i++) await round();
  await sleep(300);
  const rss1 = rssKb(pid);
  t.diagnostic(`RSS ${rss0} -> ${rss1} kB`);
  if (!underSanitizer(pid)) assert.ok(rss1 <= rss0 + 2048, `RSS ${rss0} -> ${rss1} kB`);
  await b.check();
});

// POST /tale/input and GET /tale/tabcomplete (sse plugin) with a live event
// stream's cookie: every bad form gets its JSON error, nothing reaches the game.
// Requests name Host 127.0.0.1: the transports refuse a Host they do not know
// (issue #11), and the forms, not the Host, are what this test is about.
test('hostile forms on /tale/input and /tale/tabcomplete get their JSON errors; the stream plays on', async () => {
  const stream = net.connect(host.port, '127.0.0.1');
  let got = '';
  stream.on('data', (d) => { got += d; });
  stream.on('error', () => {});
  stream.write('GET /tale/eventsource HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
  try {
    const t0 = Date.now();
    while (!/tale_session=[0-9a-f]{32}/.test(got) && Date.now() - t0 < 3000) await sleep(10);
    const cookie = /tale_session=[0-9a-f]{32}/.exec(got)[0];
    const post = (body, type = 'application/x-www-form-urlencoded') => rawHttp(host.port,
      `POST /tale/input HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${cookie}\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    const cases = [
      ['cmd=lo%00ok', 400, /cmd contains a NUL byte/],
      ['cmd=%zz', 400, /malformed percent-encoding/],
      ['cmd=%', 400, /malformed percent-encoding/],
      ['cmd=look&cmd=north', 400, /cmd given more than once/],
      ['look=1', 400, /missing field: cmd/],
      [`cmd=${'('.repeat(70000)}`, 413, /too large/],
    ];
    for (const [body, status, re] of cases) {
      const r = await post(body);
      assert.strictEqual(r.status, status, body.slice(0, 40));
      assert.match(r.body, re, body.slice(0, 40));
      assert.ok(JSON.parse(r.body).error);
    }
    const r415 = await post('{"cmd":"look"}', 'application/json');
    assert.strictEqual(r415.status, 415);
    const rtab = await rawHttp(host.port, `GET /tale/tabcomplete?prefix=lo%00 HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${cookie}\r\n\r\n`);
    assert.strictEqual(rtab.status, 400);
    // 60 kB of "(" fits the form limit but not limits.max_input: 204, and the stream says why
    const before = got.length;
    assert.strictEqual((await post(`cmd=${'('.repeat(60000)}`)).status, 204);
    const t1 = Date.now();
    while (!/too long for me to follow/.test(got.slice(before)) && Date.now() - t1 < 3000) await sleep(10);
    assert.match(got.slice(before), /too long for me to follow/);
    // and the stream's player still plays
    assert.strictEqual((await post('cmd=look')).status, 204);
    const t2 = Date.now();
    while (!/txt-userinput'>look</.test(got.slice(before)) && Date.now() - t2 < 3000) await sleep(10);
    assert.match(got.slice(before), /txt-userinput'>look</);
    await b.check();
  } finally {
    stream.destroy();
  }
});

test('an event stream that is never read is ended at the sse plugin\'s max_backlog', { timeout: 30000 }, async () => {
  const s = net.connect(host.port, '127.0.0.1');
  let got = '';
  s.on('data', (d) => { got += d; });
  s.on('error', () => {});
  s.write('GET /tale/eventsource HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  const poster = net.connect(host.port, '127.0.0.1');
  poster.on('data', () => {});
  poster.on('error', () => {});
  try {
    const t0 = Date.now();
    while (!/tale_session=[0-9a-f]{32}/.test(got) && Date.now() - t0 < 3000) await sleep(10);
    const cookie = /tale_session=[0-9a-f]{32}/.exec(got)[0];
    s.pause(); // from now on the stream's reader is gone
    const post = `POST /tale/input HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 8\r\n\r\ncmd=look`;
    const behind = /\[sse\] an event stream fell \d+ bytes behind \(max_backlog\); ending it/;
    let n = 0;
    while (!behind.test(host.stderr()) && Date.now() - t0 < 20000) {
      poster.write(post.repeat(200)); // pipelined: the game answers each on the stream
      n += 200;
      await sleep(20);
    }
    assert.match(host.stderr(), behind, `ended after ${n} commands`);
    await b.check();
    // when it reads again: what was already sent, then the end of the chunked stream
    s.resume();
    const t1 = Date.now();
    while (!/\r\n0\r\n\r\n$/.test(got) && Date.now() - t1 < 5000) await sleep(20);
    assert.match(got, /\r\n0\r\n\r\n$/, 'the stream ends cleanly');
  } finally {
    poster.destroy();
    s.destroy();
  }
});
