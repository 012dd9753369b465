// seats.test.js - who may take a seat, and from where (issue #11, findings
// 1, 2, 3 and 5): a seat goes only to the request that created it or to the
// holder of the console's one-time key; Host and Origin are checked on every
// endpoint that carries a player's output or input; seats per client address
// and new seats per minute are bounded; attached seats that never send input
// are closed after limits.seat_idle.  Each case failed against the seed host.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const http = require('http');
const WebSocket = require('ws');
const { startHost, configWith } = require('../lib/harness');
const { stopClean, rawHttp, header, sleep } = require('./lib');

const PLUGINS = ['static', 'ws', 'sse'];

// A plain HTTP request; resolves { status, headers, body } (the body read
// for at most `ms`, so an event stream's opening bytes are seen too).
function request(host, path, { method = 'GET', headers = {}, body = null, ms = 600, localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: host.port, path, method, headers, localAddress, agent: false }, (res) => {
      let data = '';
      const done = () => { clearTimeout(t); res.destroy(); resolve({ status: res.statusCode, headers: res.headers, body: data }); };
      const t = setTimeout(done, ms);
      res.setEncoding('utf8');
      res.on('data', (d) => { data += d; });
      res.on('end', done);
      res.on('error', done);
    });
    req.on('error', reject);
    if (body !== null) req.write(body);
    req.end();
  });
}

// A WebSocket handshake; resolves { ws, cookie } on 101, or { status, body } when refused.
function wsOpen(host, { headers = {}, path = '/tale/ws', localAddress, origin = host.url } = {}) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}${path}`, { headers, origin, localAddress });
    const msgs = [];
    ws.on('message', (d) => { try { msgs.push(JSON.parse(d.toString())); } catch { /* not JSON */ } });
    ws.on('upgrade', (res) => {
      const sc = res.headers['set-cookie'];
      ws.cookie = sc ? sc[0].split(';')[0] : null;
    });
    ws.closedP = new Promise((res) => ws.on('close', (code, reason) => res({ code, reason: reason.toString() })));
    ws.on('open', () => resolve({ ws, cookie: ws.cookie, msgs }));
    ws.on('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    ws.on('error', () => {});
  });
}

const closed = (ws) => ws.closedP;

async function until(pred, ms = 3000) {
  const t0 = Date.now();
  while (!pred() && Date.now() - t0 < ms) await sleep(20);
  return pred();
}

test('IF: a request without the seat\'s token never receives the seat or its token', async () => {
  const host = await startHost({ config: configWith(PLUGINS) });
  try {
    const player = await wsOpen(host);
    assert.ok(player.ws, 'the first visitor takes the free seat');
    assert.match(player.cookie, /^tale_session=[0-9a-f]{32}$/);
    await until(() => player.msgs.some((m) => m.type === 'text'));
    player.ws.send(JSON.stringify({ cmd: 'look' }));

    // curl -D- /tale/eventsource with no cookie: refused, no cookie, no replay
    const stream = await request(host, '/tale/eventsource?resume=0');
    assert.strictEqual(stream.status, 403);
    assert.strictEqual(stream.headers['set-cookie'], undefined);
    assert.match(stream.body, /^\{"error":"someone else is playing this game/);
    assert.doesNotMatch(stream.body, /"seq"/);
    // a wrong cookie is no better
    const wrong = await request(host, '/tale/eventsource', { headers: { cookie: 'tale_session=00000000000000000000000000000000' } });
    assert.strictEqual(wrong.status, 403);
    assert.strictEqual(wrong.headers['set-cookie'], undefined);
    const ws2 = await wsOpen(host);
    assert.strictEqual(ws2.status, 403);
    assert.strictEqual(ws2.headers['set-cookie'], undefined);
    // the game page tells a second visitor why there is no game
    const page = await request(host, '/tale/story');
    assert.strictEqual(page.status, 403);
    assert.match(page.body, /No game for you here/);
    // quit without the cookie ends nothing
    const quit = await request(host, '/tale/quit');
    assert.strictEqual(quit.status, 200);
    await sleep(200);
    assert.strictEqual(player.ws.readyState, WebSocket.OPEN, 'the player was not closed (no 4001, no 4002)');
    const before = player.msgs.length;
    player.ws.send(JSON.stringify({ cmd: 'look' }));
    assert.ok(await until(() => player.msgs.length > before), 'the player plays on');

    // the same browser (a second tab, same cookie) still takes over as before
    const tab = await wsOpen(host, { headers: { cookie: player.cookie } });
    assert.ok(tab.ws, 'the same cookie gets the seat');
    assert.strictEqual(tab.cookie, null, 'and is not sent a token again');
    assert.strictEqual((await closed(player.ws)).code, 4001);
    tab.ws.close();
  } finally {
    await stopClean(host);
  }
});

test('IF with seat_claim: key: only the console\'s one-time key gives the seat, and takes it back', async () => {
  const host = await startHost({ config: configWith(PLUGINS, { extra: 'seat_claim: key' }) });
  const keyRe = /to take this game's seat, open (http:\/\/127\.0\.0\.1:\d+)\/tale\/\?key=([0-9a-f]{32})/g;
  const keys = () => [...host.stderr().matchAll(keyRe)].map((m) => m[2]);
  try {
    assert.strictEqual(keys().length, 1, 'the key is printed at start');
    assert.strictEqual([...host.stderr().matchAll(keyRe)][0][1], host.url);
    // a visitor without the key: a clear page, not the game
    const page = await request(host, '/tale/story');
    assert.strictEqual(page.status, 403);
    assert.match(page.body, /private: open the link with the key printed on the server's console/);
    assert.strictEqual((await wsOpen(host)).status, 403);
    assert.strictEqual((await request(host, '/tale/eventsource')).status, 403);
    const bad = await request(host, '/tale/?key=0123456789abcdef0123456789abcdef');
    assert.strictEqual(bad.status, 403);
    assert.strictEqual(bad.headers['set-cookie'], undefined);

    // the key: cookie set, redirected to the game page without the key
    const first = keys()[0];
    const claim = await request(host, `/tale/?key=${first}`);
    assert.strictEqual(claim.status, 303);
    assert.strictEqual(claim.headers.location, '/tale/story');
    const cookie = claim.headers['set-cookie'][0].split(';')[0];
    assert.match(cookie, /^tale_session=[0-9a-f]{32}$/);
    assert.strictEqual((await request(host, '/tale/story', { headers: { cookie } })).status, 200);
    const player = await wsOpen(host, { headers: { cookie } });
    assert.ok(player.ws, 'the claimed seat plays');

    // once only: the same key again is refused; a new one was printed
    assert.ok(await until(() => keys().length === 2));
    assert.strictEqual((await request(host, `/tale/?key=${first}`)).status, 403);
    // the new key takes the seat back: the holder is closed, its cookie is dead
    const second = keys()[1];
    assert.notStrictEqual(second, first);
    const again = await request(host, `/tale/story?key=${second}`);
    assert.strictEqual(again.status, 303);
    const cookie2 = again.headers['set-cookie'][0].split(';')[0];
    assert.notStrictEqual(cookie2, cookie);
    assert.strictEqual((await closed(player.ws)).code, 4001);
    assert.strictEqual((await wsOpen(host, { headers: { cookie } })).status, 403);
    const back = await wsOpen(host, { headers: { cookie: cookie2 } });
    assert.ok(back.ws);
    back.ws.close();
  } finally {
    await stopClean(host);
  }
});

test('Origin and Host are checked on every endpoint that carries output or takes input', async () => {
  const host = await startHost({ config: configWith(PLUGINS, { mode: 'mud' }) });
  try {
    const evil = 'http://evil.example';
    const otherPort = `http://127.0.0.1:${host.port + 1}`; // another port of the same host: cookies do not separate ports
    // a cross-site event stream gets no stream, no cookie, no replay
    const es = await request(host, '/tale/eventsource', { headers: { origin: evil } });
    assert.strictEqual(es.status, 403);
    assert.match(es.body, /cross-origin request refused/);
    assert.strictEqual(es.headers['set-cookie'], undefined);

    // a real player over SSE, to aim at
    const own = await request(host, '/tale/eventsource', { headers: { origin: host.url } });
    assert.strictEqual(own.status, 200);
    const cookie = own.headers['set-cookie'][0].split(';')[0];
    const form = { 'content-type': 'application/x-www-form-urlencoded', cookie };
    for (const origin of [evil, otherPort, 'null']) {
      const post = await request(host, '/tale/input', { method: 'POST', headers: { ...form, origin }, body: 'cmd=look' });
      assert.strictEqual(post.status, 403, `POST /tale/input from ${origin}`);
      assert.match(post.body, /^\{"error":"/);
      const tab = await request(host, '/tale/tabcomplete?prefix=lo', { headers: { cookie, origin } });
      assert.strictEqual(tab.status, 403, `tabcomplete from ${origin}`);
      const quit = await request(host, '/tale/quit', { headers: { cookie, origin } });
      assert.strictEqual(quit.status, 403, `quit from ${origin}`);
    }
    // the seat survived every attempt
    const ok = await request(host, '/tale/input', { method: 'POST', headers: { ...form, origin: host.url }, body: 'cmd=look' });
    assert.strictEqual(ok.status, 204);
    // a POST without a Content-Type is refused
    const bare = await request(host, '/tale/input', { method: 'POST', headers: { cookie }, body: 'cmd=look' });
    assert.strictEqual(bare.status, 415);

    // DNS rebinding: a page on attacker.example resolved to 127.0.0.1
    const rebind = await rawHttp(host.port,
      `GET /tale/ws HTTP/1.1\r\nHost: attacker.example:${host.port}\r\nOrigin: http://attacker.example:${host.port}\r\n` +
      'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    assert.strictEqual(rebind.status, 403);
    assert.strictEqual(header(rebind.head, 'set-cookie'), null);
    assert.match(rebind.body, /allowed_hosts/);
    for (const p of ['/tale/eventsource', '/tale/tabcomplete?prefix=l']) {
      const r = await rawHttp(host.port, `GET ${p} HTTP/1.1\r\nHost: attacker.example\r\nCookie: ${cookie}\r\nConnection: close\r\n\r\n`);
      assert.strictEqual(r.status, 403, `${p} with a foreign Host`);
    }
    // localhost and IP literals are ours
    for (const h of [`localhost:${host.port}`, `127.0.0.1:${host.port}`, `[::1]:${host.port}`]) {
      const r = await rawHttp(host.port, `GET /tale/tabcomplete?prefix=l HTTP/1.1\r\nHost: ${h}\r\nCookie: ${cookie}\r\nConnection: close\r\n\r\n`);
      assert.strictEqual(r.status, 200, `Host ${h}`);
    }
  } finally {
    await stopClean(host);
  }
});

test('allowed_hosts and allowed_origins let an operator name the game\'s public name', async () => {
  const extra = 'allowed_hosts: [game.example.org]\nallowed_origins: ["https://game.example.org"]';
  const host = await startHost({ config: configWith(PLUGINS, { mode: 'mud', extra }) });
  try {
    const ok = await rawHttp(host.port,
      'GET /tale/eventsource HTTP/1.1\r\nHost: game.example.org\r\nOrigin: https://game.example.org\r\n\r\n', { ms: 500 });
    assert.strictEqual(ok.status, 200);
    const no = await rawHttp(host.port,
      'GET /tale/eventsource HTTP/1.1\r\nHost: game.example.org.evil.example\r\nConnection: close\r\n\r\n');
    assert.strictEqual(no.status, 403);
  } finally {
    await stopClean(host);
  }
});

test('MUD: seats per client address and new seats per minute are bounded; other addresses play on', async () => {
  const limits = { input_rate: 0, max_sessions_per_address: 3, new_sessions_per_minute: 5 };
  const host = await startHost({ config: configWith(PLUGINS, { mode: 'mud', limits }) });
  const open = [];
  try {
    for (let i = 0; i < 3; i++) {
      const p = await wsOpen(host, { localAddress: '127.0.0.1' });
      assert.ok(p.ws, `seat ${i + 1}`);
      open.push(p.ws);
    }
    const fourth = await wsOpen(host, { localAddress: '127.0.0.1' });
    assert.strictEqual(fourth.status, 429);
    assert.match(fourth.body, /too many players from your address/);
    assert.strictEqual(fourth.headers['retry-after'], '60');
    // another address is not affected
    const other = await wsOpen(host, { localAddress: '127.0.0.2' });
    assert.ok(other.ws, 'another address gets a seat');
    open.push(other.ws);
    // quitting frees the address's seat, but the minute's budget (5) is nearly spent
    open[0].send(JSON.stringify({ cmd: 'quit' }));
    await closed(open[0]);
    const again = await wsOpen(host, { localAddress: '127.0.0.1' });
    assert.ok(again.ws, 'a freed seat can be taken again');
    open.push(again.ws);
    open[1].send(JSON.stringify({ cmd: 'quit' }));
    await closed(open[1]);
    const flood = await wsOpen(host, { localAddress: '127.0.0.1' });
    assert.ok(flood.ws, 'the fifth new seat this minute');
    open.push(flood.ws);
    open[2].send(JSON.stringify({ cmd: 'quit' }));
    await closed(open[2]);
    const sixth = await wsOpen(host, { localAddress: '127.0.0.1' });
    assert.strictEqual(sixth.status, 429);
    assert.match(sixth.body, /try again in a minute/);
    assert.match(host.stderr(), /new_sessions_per_minute \(5\) reached/);
  } finally {
    for (const ws of open) ws.terminate();
    await stopClean(host);
  }
});

test('attached seats that send nothing for limits.seat_idle are closed (4003), active ones stay', async () => {
  const limits = { input_rate: 0, seat_idle: '1s' };
  const host = await startHost({ config: configWith(PLUGINS, { mode: 'mud', tick: '100ms', limits }) });
  try {
    const idle = await wsOpen(host);
    const active = await wsOpen(host);
    // an event stream that is never read and never sends input
    const timer = setInterval(() => active.ws.send(JSON.stringify({ cmd: 'look' })), 300);
    const streamP = new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: host.port, path: '/tale/eventsource', agent: false }, (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve({ ended: true }));
        res.on('error', () => resolve({ ended: true }));
      });
      req.on('error', () => resolve({ ended: true }));
    });
    const t0 = Date.now();
    const c = await closed(idle.ws);
    const stream = await streamP;
    clearInterval(timer);
    assert.strictEqual(c.code, 4003);
    assert.ok(Date.now() - t0 < 3000);
    assert.ok(stream.ended, 'the unread event stream was ended');
    assert.strictEqual(active.ws.readyState, WebSocket.OPEN, 'a player who types stays');
    assert.match(host.stderr(), /sent nothing for 1 s \(seat_idle\)/);
    active.ws.close();
  } finally {
    await stopClean(host);
  }
});
