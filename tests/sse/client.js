// client.js - small SSE/HTTP clients for the sse integration tests.
//
// RawStream reads /tale/eventsource byte by byte with node's http module, so
// the tests see the exact framing, the comments (": keepalive") and how the
// stream ends.  openEventSource() wraps the real npm `eventsource@4` client
// with a one-cookie jar (node's fetch has none).  post()/get() are fetch
// calls that return { status, headers, text, json }.
'use strict';
const http = require('http');
const { EventSource } = require('eventsource');

// Parse complete SSE blocks out of `buf`; returns [events, rest].
// An event is { event, id, data, comments: [...] }; a block of comments only
// has event === null.
function parseBlocks(buf) {
  const out = [];
  let idx;
  while ((idx = buf.indexOf('\n\n')) >= 0) {
    const block = buf.slice(0, idx);
    buf = buf.slice(idx + 2);
    const ev = { event: null, id: null, data: null, comments: [], raw: block };
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) ev.comments.push(line.slice(1).trim());
      else if (line.startsWith('event: ')) ev.event = line.slice(7);
      else if (line.startsWith('id: ')) ev.id = line.slice(4);
      else if (line.startsWith('data: ')) ev.data = ev.data === null ? line.slice(6) : `${ev.data}\n${line.slice(6)}`;
      else if (line.startsWith('retry: ')) ev.retry = line.slice(7);
      else ev.unknown = line;
    }
    out.push(ev);
  }
  return [out, buf];
}

class RawStream {
  constructor(baseUrl, { cookie, lastEventId, path = '/tale/eventsource' } = {}) {
    this.events = [];   // frames (event !== null)
    this.comments = []; // comment texts in arrival order
    this.raw = '';
    this.ended = false; // the response completed cleanly (chunked end seen)
    this.aborted = false;
    this.error = null;
    this.waiters = [];
    const headers = {};
    if (cookie) headers.cookie = cookie;
    if (lastEventId !== undefined) headers['last-event-id'] = String(lastEventId);
    this.ready = new Promise((resolve, reject) => {
      this.req = http.get(baseUrl + path, { headers, agent: false }, (res) => {
        this.res = res;
        this.status = res.statusCode;
        this.headers = res.headers;
        const sc = res.headers['set-cookie'];
        this.setCookie = sc ? sc[0] : null;
        this.cookie = cookie || (this.setCookie ? this.setCookie.split(';')[0] : null);
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          this.raw += chunk;
          buf += chunk;
          const [evs, rest] = parseBlocks(buf);
          buf = rest;
          for (const ev of evs) {
            this.comments.push(...ev.comments);
            if (ev.event !== null) this.events.push(ev);
          }
          this._poke();
        });
        res.on('end', () => { this.ended = true; this._poke(); });
        res.on('aborted', () => { this.aborted = true; this._poke(); });
        res.on('error', (e) => { this.error = e; this._poke(); });
        resolve(this);
      });
      this.req.on('error', (e) => { this.error = e; this._poke(); reject(e); });
    });
  }

  _poke() {
    const still = [];
    for (const w of this.waiters) {
      if (w.pred(this)) { clearTimeout(w.timer); w.resolve(this); } else still.push(w);
    }
    this.waiters = still;
  }

  // Resolve when pred(this) holds; reject after ms.
  waitFor(pred, ms = 5000, what = 'condition') {
    if (pred(this)) return Promise.resolve(this);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve };
      w.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}; got ${this.events.length} events, raw tail: ` +
          JSON.stringify(this.raw.slice(-400))));
      }, ms);
      this.waiters.push(w);
    });
  }

  // The JSON frames so far (text and data), parsed.
  frames() { return this.events.filter((e) => e.event === 'text' || e.event === 'data').map((e) => ({ ...e, json: JSON.parse(e.data) })); }
  lastId() { const f = this.frames(); return f.length ? Number(f[f.length - 1].id) : 0; }
  close() { this.req.destroy(); }
}

async function openRaw(baseUrl, opts) {
  const s = new RawStream(baseUrl, opts);
  await s.ready;
  return s;
}

// The real EventSource client (npm eventsource@4), cookie kept like a browser would.
function openEventSource(baseUrl, { cookie } = {}) {
  const jar = { cookie: cookie || null };
  const frames = [];
  const waiters = [];
  const poke = () => {
    for (const w of waiters.splice(0)) {
      if (w.pred(frames)) { clearTimeout(w.timer); w.resolve(frames); } else waiters.push(w);
    }
  };
  const es = new EventSource(baseUrl + '/tale/eventsource', {
    fetch: async (input, init) => {
      const headers = { ...(init.headers || {}) };
      if (jar.cookie) headers.cookie = jar.cookie;
      const res = await fetch(input, { ...init, headers });
      const sc = res.headers.getSetCookie ? res.headers.getSetCookie() : [];
      if (sc.length) jar.cookie = sc[0].split(';')[0];
      jar.lastStatus = res.status;
      jar.lastHeaders = res.headers;
      return res;
    },
  });
  for (const type of ['text', 'data', 'close']) {
    es.addEventListener(type, (e) => {
      frames.push({ event: type, id: e.lastEventId, json: JSON.parse(e.data) });
      poke();
    });
  }
  return {
    es,
    jar,
    frames,
    waitFor(pred, ms = 5000, what = 'frames') {
      if (pred(frames)) return Promise.resolve(frames);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        w.timer = setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`timed out after ${ms} ms waiting for ${what}; have ${frames.length} frames`));
        }, ms);
        waiters.push(w);
      });
    },
    opened: new Promise((resolve, reject) => {
      es.addEventListener('open', () => resolve(), { once: true });
      es.addEventListener('error', (e) => { if (es.readyState === EventSource.CLOSED) reject(e); }, { once: true });
    }),
    close() { es.close(); },
  };
}

async function request(url, { method = 'GET', cookie, body, headers = {} } = {}) {
  const h = { ...headers };
  if (cookie) h.cookie = cookie;
  const res = await fetch(url, { method, headers: h, body });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

function postInput(baseUrl, cookie, body, headers = { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' }) {
  return request(baseUrl + '/tale/input', { method: 'POST', cookie, body, headers });
}

module.exports = { RawStream, openRaw, openEventSource, request, postInput, parseBlocks };
