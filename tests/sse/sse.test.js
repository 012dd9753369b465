// sse.test.js - the sse plugin in the real host, over HTTP/1.1, with the sse
// plugin alone in the config (no ws, no static): stream headers and framing,
// input and autocomplete, tick output, Last-Event-ID resume, every error
// answer while another client keeps playing, keepalive, and SIGTERM.
'use strict';
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert');
const { startHost, configWith } = require('../lib/harness');
const { openRaw, openEventSource, request, postInput } = require('./client');

const TEXT_FIELDS = ['type', 'seq', 'text', 'special', 'turns', 'location', 'location_image', 'npcs', 'items', 'exits'];

// Check one frame against PROTOCOL.md: the SSE id is the JSON seq, the event
// name is the JSON type, and the fields have their documented types.
// `allFields: false` checks only what every text frame must carry to be
// shown at all (the host's own completion frames have no location yet).
function checkFrame(f, { allFields = true } = {}) {
  assert.match(f.id, /^[1-9][0-9]*$/, `id line: ${f.raw}`);
  assert.strictEqual(f.json.seq, Number(f.id), 'the id: line carries the frame seq');
  assert.strictEqual(f.json.type, f.event, 'event name is the frame type');
  if (f.event === 'text') {
    assert.strictEqual(typeof f.json.text, 'string');
    assert.ok(Array.isArray(f.json.special));
    if (!allFields) return;
    for (const k of TEXT_FIELDS) assert.ok(k in f.json, `text frame has "${k}": ${f.data}`);
    for (const k of ['npcs', 'items', 'exits', 'location']) assert.strictEqual(typeof f.json[k], 'string', k);
  } else {
    assert.strictEqual(f.event, 'data');
    assert.strictEqual(typeof f.json.id, 'string', 'data frame names its target element');
    assert.strictEqual(typeof f.json.data, 'string');
  }
}

function contiguous(ids) {
  for (let i = 1; i < ids.length; i++) if (ids[i] !== ids[i - 1] + 1) return false;
  return true;
}

describe('sse plugin alone (HTTP/1.1)', () => {
  let host;
  // IF mode has one seat, and a request without its cookie never gets it
  // (issue #11): the first cookieless stream takes the seat, and every later
  // stream and post in this game carries that stream's cookie.
  let seat = null;
  const seatCookie = async () => {
    if (seat === null) {
      const s = await openRaw(host.url);
      assert.strictEqual(s.status, 200, 'the first visitor takes the free seat');
      seat = s.cookie;
      s.close();
    }
    return seat;
  };
  const openSeat = async (opts = {}) => openRaw(host.url, { cookie: await seatCookie(), ...opts });
  before(async () => {
    host = await startHost({
      config: configWith(['sse'], { tick: '50ms', pluginConfig: { sse: { keepalive: '300ms', max_body: '4k' } } }),
    });
  });
  after(async () => {
    if (host) await host.stop();
  });

  test('stream answers with the event-stream headers and a session cookie', async () => {
    assert.strictEqual(seat, null, 'this test runs first: its stream is the first visitor and takes the seat');
    const s = await openRaw(host.url);
    try {
      assert.strictEqual(s.status, 200);
      seat = s.cookie;
      assert.match(s.headers['content-type'], /^text\/event-stream/);
      assert.strictEqual(s.headers['cache-control'], 'no-cache');
      assert.strictEqual(s.headers['x-accel-buffering'], 'no');
      assert.match(s.setCookie, /^tale_session=[0-9a-f]{32}; /);
      assert.match(s.setCookie, /HttpOnly/);
      assert.match(s.setCookie, /SameSite=Strict/);
      assert.doesNotMatch(s.setCookie, /Secure/, 'no Secure flag over plain HTTP');
      await s.waitFor((x) => x.frames().some((f) => f.event === 'text'), 5000, 'the welcome text');
    } finally {
      s.close();
    }
  });

  test('frames are "event:", "id:", "data:" blocks whose JSON matches PROTOCOL.md', async () => {
    const s = await openSeat();
    try {
      await s.waitFor((x) => x.frames().length >= 1, 5000, 'frames');
      const frames = s.frames();
      for (const f of frames) {
        checkFrame(f);
        assert.match(f.raw, /^event: (text|data)\nid: \d+\ndata: \{.*\}$/s);
      }
      assert.ok(contiguous(frames.map((f) => Number(f.id))), 'replayed ids are contiguous');
      assert.match(frames.filter((f) => f.event === 'text').map((f) => f.json.text).join(''), /Lighthouse/,
        'the welcome text is replayed to a fresh stream');
    } finally {
      s.close();
    }
  });

  test('POST /tale/input puts the answer on the stream (real EventSource client)', async () => {
    const es = openEventSource(host.url, { cookie: await seatCookie() });
    try {
      await es.opened;
      await es.waitFor((f) => f.length > 0, 5000, 'the backlog');
      const before = es.frames.length;
      assert.strictEqual(es.jar.cookie, seat, 'the EventSource carries the seat cookie');
      const r = await postInput(host.url, es.jar.cookie, 'cmd=look');
      assert.ok(r.status === 204 || r.status === 200, `status ${r.status}`);
      await es.waitFor((f) => f.slice(before).some((x) => x.event === 'text' && /Jetty|Harbour/.test(x.json.location)), 5000,
        'the look answer');
      const answer = es.frames.slice(before).find((x) => x.event === 'text');
      assert.strictEqual(String(answer.json.seq), answer.id, 'lastEventId is the seq');
      assert.match(answer.json.text, /look/, 'the echoed input is in the text');
    } finally {
      es.close();
    }
  });

  test('autocomplete works via POST autocomplete=1 and via GET /tale/tabcomplete', async () => {
    const s = await openSeat();
    try {
      await s.waitFor((x) => x.frames().length > 0, 5000, 'the backlog');
      const n = s.frames().length;
      const r = await postInput(host.url, s.cookie, 'cmd=loo&autocomplete=1');
      assert.ok(r.status === 204 || r.status === 200);
      await s.waitFor((x) => x.frames().length > n, 5000, 'the completion frame');
      const f = s.frames()[n];
      checkFrame(f, { allFields: false });
      assert.ok(Array.isArray(f.json.completions), 'the frame lists the completions');
      assert.ok(f.json.completions.includes('look'), JSON.stringify(f.json.completions));
      assert.match(f.json.text, /look/);

      const t = await request(`${host.url}/tale/tabcomplete?prefix=loo`, { cookie: s.cookie });
      assert.strictEqual(t.status, 200);
      assert.match(t.headers.get('content-type'), /^application\/json/);
      assert.ok(Array.isArray(t.json) && t.json.includes('look'), t.text);
      assert.ok(t.json.every((w) => typeof w === 'string' && w.startsWith('loo')), t.text);

      const none = await request(`${host.url}/tale/tabcomplete?prefix=${encodeURIComponent('zzqx')}`, { cookie: s.cookie });
      assert.deepStrictEqual(none.json, []);
    } finally {
      s.close();
    }
  });

  // LlamaTale's client runs json.location.toLowerCase() on every text frame
  // that has text, so a frame without "location" stops its page script.
  test('host-made text frames (completions) carry every text field too', async () => {
    const s = await openSeat();
    try {
      await s.waitFor((x) => x.frames().length > 0, 5000, 'the backlog');
      const n = s.frames().length;
      await postInput(host.url, s.cookie, 'cmd=loo&autocomplete=1');
      await s.waitFor((x) => x.frames().length > n, 5000, 'the completion frame');
      checkFrame(s.frames()[n]);
    } finally {
      s.close();
    }
  });

  test('tick output (NPCs) arrives on the stream with no input', async () => {
    const s = await openSeat();
    try {
      await s.waitFor((x) => x.frames().length > 0, 5000, 'the backlog');
      // Walk to the harbour, where Finn and Bram emote every 15 and 20 ticks (50 ms each).
      const r = await postInput(host.url, s.cookie, 'cmd=north');
      assert.strictEqual(r.status, 204);
      await s.waitFor((x) => x.frames().some((f) => f.json.location === 'The Harbour'), 5000, 'the harbour');
      const n = s.frames().length;
      await s.waitFor((x) => x.frames().slice(n).some((f) => /Finn|Bram/.test(f.json.text || '')), 8000,
        'an NPC emote from the tick');
      const ids = s.frames().map((f) => Number(f.id));
      assert.ok(contiguous(ids.slice(ids.length - (s.frames().length - n) - 1)), 'live ids stay contiguous');
    } finally {
      s.close();
    }
  });

  test('a keepalive comment arrives every keepalive interval', async () => {
    const s = await openSeat();
    try {
      await s.waitFor((x) => x.comments.filter((c) => c === 'keepalive').length >= 2, 3000, 'two keepalives (300ms)');
      assert.match(s.raw, /\n\n: keepalive\n\n/);
    } finally {
      s.close();
    }
  });

  test('Last-Event-ID resumes after that id: nothing lost, nothing twice', async () => {
    const a = await openSeat();
    await a.waitFor((x) => x.frames().length > 0, 5000, 'the backlog');
    const cookie = a.cookie;
    await postInput(host.url, cookie, 'cmd=look');
    await a.waitFor((x) => x.frames().some((f) => /look/.test(f.json.text || '')), 5000, 'the look answer');
    const seen = a.lastId();
    a.close(); // a forced disconnect
    // Play on while no stream is attached: the host holds the output.
    assert.strictEqual((await postInput(host.url, cookie, 'cmd=inventory')).status, 204);
    assert.strictEqual((await postInput(host.url, cookie, 'cmd=look')).status, 204);

    const b = await openRaw(host.url, { cookie, lastEventId: seen });
    try {
      assert.strictEqual(b.status, 200);
      assert.strictEqual(b.setCookie, null, 'a known session gets no new cookie');
      await b.waitFor((x) => x.frames().filter((f) => /look/.test(f.json.text || '')).length >= 1 &&
        x.frames().some((f) => /inventory/.test(f.json.text || '')), 5000, 'the frames produced while away');
      const ids = b.frames().map((f) => Number(f.id));
      assert.strictEqual(ids[0], seen + 1, `resume starts right after ${seen}: got ${ids.slice(0, 5)}`);
      assert.ok(contiguous(ids), `no gaps or repeats: ${ids}`);
      for (const f of b.frames()) checkFrame(f);
    } finally {
      b.close();
    }
  });

  test('the real EventSource client reconnects with Last-Event-ID and sees every frame exactly once', async () => {
    const es = openEventSource(host.url, { cookie: await seatCookie() });
    let other;
    try {
      await es.opened;
      await es.waitFor((f) => f.some((x) => x.event === 'text'), 5000, 'the backlog');
      const cookie = es.jar.cookie;
      // Another connection takes the seat: the client's stream ends (close 4001) and it retries in ~3 s.
      other = await openRaw(host.url, { cookie, lastEventId: Number(es.frames[es.frames.length - 1].id) });
      await es.waitFor((f) => f.some((x) => x.event === 'close'), 5000, 'the close event');
      assert.strictEqual(es.frames.find((x) => x.event === 'close').json.code, 4001);
      // Play on while the client is away; these frames go to the other connection.
      assert.strictEqual((await postInput(host.url, cookie, 'cmd=inventory')).status, 204);
      await other.waitFor((x) => x.frames().some((f) => /inventory/.test(f.json.text || '')), 5000, 'inventory on the other');
      // The client comes back by itself, sends Last-Event-ID, and gets what it missed.
      await es.waitFor((f) => f.some((x) => x.event === 'text' && /inventory/.test(x.json.text)), 8000, 'the missed frame');
      const ids = es.frames.filter((x) => x.event !== 'close').map((x) => Number(x.id));
      assert.ok(contiguous(ids), `every id once, in order: ${ids}`);
      assert.strictEqual(new Set(ids).size, ids.length);
      await other.waitFor((x) => x.ended, 5000, 'the other connection ending (taken back)');
    } finally {
      es.close();
      if (other) other.close();
    }
  });

  test('a second stream takes the seat over: the first gets a close event (4001) and ends cleanly', async () => {
    const a = await openSeat();
    await a.waitFor((x) => x.frames().length > 0, 5000, 'the backlog');
    const b = await openRaw(host.url, { cookie: a.cookie, lastEventId: a.lastId() });
    try {
      await a.waitFor((x) => x.ended || x.aborted || x.error, 5000, 'the end of the first stream');
      assert.ok(a.ended, 'the first response completed cleanly');
      const close = a.events.find((e) => e.event === 'close');
      assert.ok(close, a.raw.slice(-300));
      const why = JSON.parse(close.data);
      assert.strictEqual(why.code, 4001);
      assert.strictEqual(typeof why.reason, 'string');
      // The new stream is the one that plays now.
      const n = b.frames().length;
      assert.strictEqual((await postInput(host.url, a.cookie, 'cmd=look')).status, 204);
      await b.waitFor((x) => x.frames().slice(n).some((f) => /look/.test(f.json.text || '')), 5000, 'the answer on b');
    } finally {
      a.close();
      b.close();
    }
  });

  test('a vanished HTTP/1.1 client is detached within one keepalive interval', async () => {
    const a = await openSeat();
    await a.waitFor((x) => x.frames().length > 0, 5000, 'the backlog');
    const takeovers = () => (host.stderr().match(/taken over/g) || []).length;
    await new Promise((r) => setTimeout(r, 200)); // let log lines of earlier take-overs arrive
    const before = takeovers();
    a.close();
    await new Promise((r) => setTimeout(r, 450)); // one keepalive interval (300 ms) and some slack
    const b = await openRaw(host.url, { cookie: a.cookie, lastEventId: a.lastId() });
    try {
      await b.waitFor((x) => x.comments.length > 0, 3000, 'the opening comment');
      assert.strictEqual(takeovers(), before, 'the old stream was already detached: nothing to take over');
    } finally {
      b.close();
    }
  });

  test('bad requests get their documented status and a JSON error while another client keeps playing', async () => {
    const player = openEventSource(host.url, { cookie: await seatCookie() });
    try {
      await player.opened;
      await player.waitFor((f) => f.length > 0, 5000, 'the backlog');
      const cookie = player.jar.cookie;
      let turn = 0;
      // After each bad request the player still plays: its command is answered on its stream.
      const stillPlays = async () => {
        const n = player.frames.length;
        const cmd = turn++ % 2 ? 'look' : 'inventory';
        assert.strictEqual((await postInput(host.url, cookie, `cmd=${cmd}`)).status, 204);
        await player.waitFor((f) => f.slice(n).some((x) => x.event === 'text' && x.json.text.includes(cmd)), 5000, cmd);
      };
      const isJsonError = (r, status) => {
        assert.strictEqual(r.status, status, r.text);
        assert.match(r.headers.get('content-type'), /^application\/json/);
        assert.strictEqual(typeof r.json.error, 'string', r.text);
        assert.ok(r.json.error.length > 0);
      };

      isJsonError(await postInput(host.url, cookie, 'cmd=' + 'x'.repeat(5000)), 413); // max_body: 4k
      await stillPlays();
      isJsonError(await postInput(host.url, null, 'cmd=look'), 401);
      isJsonError(await postInput(host.url, 'tale_session=0123456789abcdef0123456789abcdef', 'cmd=look'), 401);
      await stillPlays();
      isJsonError(await postInput(host.url, cookie, 'cmd=%zz'), 400);
      isJsonError(await postInput(host.url, cookie, 'cmd=look%2'), 400);
      isJsonError(await postInput(host.url, cookie, 'command=look'), 400);
      isJsonError(await postInput(host.url, cookie, 'cmd=a&cmd=b'), 400);
      isJsonError(await postInput(host.url, cookie, 'cmd=a%00b'), 400);
      await stillPlays();
      const g = await request(`${host.url}/tale/input`, { cookie });
      isJsonError(g, 405);
      assert.strictEqual(g.headers.get('allow'), 'POST');
      const p = await request(`${host.url}/tale/eventsource`, { method: 'POST', cookie, body: 'x' });
      isJsonError(p, 405);
      assert.strictEqual(p.headers.get('allow'), 'GET');
      isJsonError(await request(`${host.url}/tale/tabcomplete?prefix=lo`), 401);
      isJsonError(await request(`${host.url}/tale/tabcomplete?prefix=%z`, { cookie }), 400);
      isJsonError(await postInput(host.url, cookie, '{"cmd":"look"}', { 'content-type': 'application/json' }), 415);
      isJsonError(await request(`${host.url}/tale/input/extra`, { method: 'POST', cookie, body: 'cmd=look' }), 404);
      await stillPlays();
      assert.strictEqual(player.es.readyState, 1, 'the player stream stayed open throughout');
    } finally {
      player.close();
    }
  });
});

describe('sse plugin beside ws', () => {
  test('with ws also loaded, the sse transport still plays', async () => {
    const host = await startHost({ config: configWith(['ws', 'sse']) });
    try {
      const es = openEventSource(host.url);
      await es.opened;
      await es.waitFor((f) => f.length > 0, 5000, 'the backlog');
      const n = es.frames.length;
      assert.strictEqual((await postInput(host.url, es.jar.cookie, 'cmd=look')).status, 204);
      await es.waitFor((f) => f.slice(n).some((x) => /look/.test(x.json.text || '')), 5000, 'the answer');
      es.close();
    } finally {
      await host.stop();
    }
  });
});

describe('sse plugin shutdown', () => {
  test('SIGTERM ends the stream cleanly and the host exits 0 within 5 s', async () => {
    const host = await startHost({ config: configWith(['sse'], { pluginConfig: { sse: { keepalive: '15s' } } }) });
    let s;
    try {
      s = await openRaw(host.url);
      await s.waitFor((x) => x.frames().length > 0, 5000, 'the backlog');
      const t0 = Date.now();
      const exited = host.stop('SIGTERM', 8000);
      await s.waitFor((x) => x.ended || x.aborted || x.error, 5000, 'the end of the stream');
      assert.ok(s.ended && !s.aborted && !s.error, 'the response completed (chunked end), not cut');
      assert.ok(Date.now() - t0 < 5000);
      const close = s.events.find((e) => e.event === 'close');
      assert.ok(close, 'a close event says why the stream ends');
      assert.strictEqual(JSON.parse(close.data).code, 1001);
      const { code, ms } = await exited;
      assert.strictEqual(code, 0, host.stderr());
      assert.ok(ms < 5000, `exited after ${ms} ms`);
    } finally {
      if (s) s.close();
      await host.stop('SIGKILL', 1000);
    }
  });
});
