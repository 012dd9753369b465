// memcheck.test.js - one integration run of tale-host under valgrind memcheck
// (issue 7, item 2): static + ws + sse in MUD mode, a WebSocket player and an
// SSE player who play and talk to each other; a ws drop and resume, an SSE
// take-over with Last-Event-ID, a quit; then SIGTERM with a player connected.
// The host must exit 0 with zero memcheck errors and no definite leaks.
//
// ctest runs this with TALE_HOST=vg-host.sh (valgrind around the real host,
// TALE_REAL_HOST) and TALE_VALGRIND_LOG, where memcheck writes its report.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const http = require('http');
const WebSocket = require('ws');
const { startHost, configWith } = require('../lib/harness');

const SLOW = 60000; // valgrind runs the host 20-50 times slower

function waitUntil(pred, what, ms = SLOW) {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const poll = () => {
      const v = pred();
      if (v) return resolve(v);
      if (Date.now() - t0 > ms) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(poll, 20);
    };
    poll();
  });
}

function request(host, method, path, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: host.port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.setTimeout(SLOW, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

// An SSE player: the stream's text frames, and the cookie it was given.
function openStream(host, { cookie, lastEventId } = {}) {
  return new Promise((resolve, reject) => {
    const p = { frames: [], cookie, ended: false };
    const headers = {};
    if (cookie) headers.Cookie = cookie;
    if (lastEventId !== undefined) headers['Last-Event-ID'] = String(lastEventId);
    const req = http.get({ host: '127.0.0.1', port: host.port, path: '/tale/eventsource', headers }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`eventsource: ${res.statusCode}`));
      if (res.headers['set-cookie']) p.cookie = res.headers['set-cookie'][0].split(';')[0];
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          if (/^event: text$/m.test(block)) p.frames.push(JSON.parse(data));
        }
      });
      res.on('end', () => { p.ended = true; });
      res.on('error', () => { p.ended = true; });
      resolve(p);
    });
    p.req = req;
    req.on('error', reject);
  });
}

function openWs(host, { cookie, resume } = {}) {
  return new Promise((resolve, reject) => {
    const q = resume !== undefined ? `?resume=${resume}` : '';
    const headers = cookie ? { Cookie: cookie } : {};
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/tale/ws${q}`, { origin: host.url, headers });
    const p = { ws, frames: [], closed: null, cookie };
    ws.on('upgrade', (res) => {
      const sc = res.headers['set-cookie'];
      if (sc && sc.length) p.cookie = sc[0].split(';')[0];
    });
    p.closed = new Promise((res) => ws.on('close', (code) => res(code)));
    ws.on('message', (m) => {
      const f = JSON.parse(m.toString());
      if (f.type === 'text') p.frames.push(f);
    });
    ws.on('open', () => resolve(p));
    ws.on('error', reject);
  });
}

const has = (frames, re, from = 0) => frames.slice(from).some((f) => re.test(f.text));

test('ws + sse + static under valgrind: no memcheck errors, no definite leaks', { timeout: 600000 }, async () => {
  const log = process.env.TALE_VALGRIND_LOG;
  assert.ok(log && process.env.TALE_REAL_HOST, 'run through ctest: TALE_VALGRIND_LOG and TALE_REAL_HOST are needed');
  fs.rmSync(log, { force: true });
  const host = await startHost({ config: configWith(['static', 'ws', 'sse'], { mode: 'mud' }), timeoutMs: SLOW * 2 });
  let stopped = null;
  try {
    const root = await request(host, 'GET', '/');
    assert.strictEqual(root.status, 302);
    const page = await request(host, 'GET', new URL(root.headers.location, host.url).pathname);
    assert.strictEqual(page.status, 200);
    assert.match(page.text, /<html/i);

    const w = await openWs(host);
    await waitUntil(() => w.frames.length > 0, 'the ws welcome');
    let from = w.frames.length;
    w.ws.send(JSON.stringify({ cmd: 'examine jetty' }));
    w.ws.send('north'); // a plain-text message is a command too
    await waitUntil(() => w.frames.length >= from + 2, 'two ws answers');
    assert.ok(has(w.frames, /txt-userinput/, from), 'the ws player sees its commands echoed');
    from = w.frames.length;
    w.ws.send(JSON.stringify({ cmd: 'ex', autocomplete: 1 }));
    await waitUntil(() => w.frames.length > from, 'the ws completion answer');

    const s = await openStream(host);
    assert.match(s.cookie, /^tale_session=[0-9a-f]{32}$/);
    await waitUntil(() => s.frames.length > 0, 'the sse welcome');
    const form = { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: s.cookie };
    for (const cmd of ['look', 'north', 'say hello from the stream']) {
      const n = s.frames.length;
      const r = await request(host, 'POST', '/tale/input', { headers: form, body: `cmd=${encodeURIComponent(cmd)}` });
      assert.ok(r.status >= 200 && r.status < 300, `POST ${cmd}: ${r.status} ${r.text}`);
      await waitUntil(() => s.frames.length > n, `the answer to ${cmd}`);
    }
    const tc = await request(host, 'GET', '/tale/tabcomplete?prefix=ex', { headers: { Cookie: s.cookie } });
    assert.strictEqual(tc.status, 200);
    assert.ok(JSON.parse(tc.text).includes('examine'), tc.text);
    // both players stand in the harbour: the ws player hears the sse player
    await waitUntil(() => has(w.frames, /hello from the stream/), 'the speech reaching the ws player');

    // the ws player drops and resumes with its cookie: the host replays what it missed
    const lastSeq = w.frames[w.frames.length - 1].seq;
    w.ws.terminate();
    await w.closed;
    const s2 = s.frames.length;
    await request(host, 'POST', '/tale/input', { headers: form, body: 'cmd=say%20while%20you%20were%20away' });
    await waitUntil(() => s.frames.length > s2, 'the answer to the second say');
    const w2 = await openWs(host, { cookie: w.cookie, resume: lastSeq });
    await waitUntil(() => has(w2.frames, /while you were away/), 'the missed speech, replayed on resume');
    assert.ok(w2.frames.every((f) => f.seq > lastSeq), 'a resume replays only frames after its seq');

    // the sse player's seat is taken over by a second stream resuming from Last-Event-ID
    const t = await openStream(host, { cookie: s.cookie, lastEventId: s.frames[s.frames.length - 1].seq });
    await waitUntil(() => s.ended, 'the first stream to end on take-over');
    const n = t.frames.length;
    await request(host, 'POST', '/tale/input', { headers: form, body: 'cmd=inventory' });
    await waitUntil(() => t.frames.length > n, 'the answer on the new stream');

    // the ws player quits: its session ends and the connection closes
    w2.ws.send(JSON.stringify({ cmd: 'quit' }));
    await w2.closed;

    const w3 = await openWs(host); // a fresh player, connected at shutdown
    await waitUntil(() => w3.frames.length > 0, 'the third welcome');
    stopped = await host.stop('SIGTERM', SLOW * 2);
    await waitUntil(() => t.ended, 'the sse stream to end');
    assert.strictEqual(await w3.closed, 1001, 'the ws connection closes with 1001 on shutdown');
  } finally {
    if (!stopped) stopped = await host.stop('SIGKILL', 5000);
  }
  const report = fs.readFileSync(log, 'utf8');
  assert.match(report, /ERROR SUMMARY: 0 errors/, report);
  assert.doesNotMatch(report, /definitely lost: [1-9]/, report);
  assert.strictEqual(stopped.code, 0, `tale-host exited ${stopped.code ?? stopped.signal} (99: memcheck errors)\n${report}`);
});
