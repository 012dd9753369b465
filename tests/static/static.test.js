// The static plugin in the real host: every route, types, validators, gzip,
// traversal in every spelling, methods, escaping and security headers.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const { startHost, configWith, SRC } = require('../lib/harness');

const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'";

// A private web root (the real web/ plus one file of each type and the
// traps) and a copy of the story whose name needs escaping.
function fixtures() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-static-'));
  const web = path.join(dir, 'web');
  fs.cpSync(path.join(SRC, 'web'), web, { recursive: true });
  const bytes = Buffer.from('0123456789abcdef');
  for (const ext of ['png', 'jpg', 'gif', 'ico', 'webp', 'woff2']) fs.writeFileSync(path.join(web, `sample.${ext}`), bytes);
  fs.writeFileSync(path.join(web, 'sample.json'), JSON.stringify({ hello: 'world' }));
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'TOP-SECRET-OUTSIDE-THE-ROOT\n');
  fs.writeFileSync(path.join(web, '.hidden'), 'TOP-SECRET-DOTFILE\n');
  fs.symlinkSync(path.join(dir, 'secret.txt'), path.join(web, 'escape.txt'));
  fs.symlinkSync(dir, path.join(web, 'up'));
  fs.mkdirSync(path.join(web, 'sub'));
  const story = path.join(dir, 'story');
  fs.cpSync(path.join(SRC, 'conf', 'stories', 'lighthouse'), story, { recursive: true });
  const yaml = path.join(story, 'story.yaml');
  const text = fs.readFileSync(yaml, 'utf8');
  const named = text.replace(/^(story:\n(?:.*\n)*?\s+name:).*$/m, '$1 "Fish & <Chips> \\"Tale\\""');
  assert.notStrictEqual(named, text, 'story.yaml has a story name to replace');
  fs.writeFileSync(yaml, named);
  return { dir, web, story };
}

function request(host, method, p, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: host.port, method, path: p, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

// The request line exactly as written, over a plain socket.
function rawRequest(host, target) {
  return new Promise((resolve, reject) => {
    const s = net.connect(host.port, '127.0.0.1');
    const chunks = [];
    s.on('connect', () => s.write(`GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`));
    s.on('data', (c) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    s.on('error', reject);
    s.setTimeout(5000, () => { s.destroy(); reject(new Error('raw request timed out')); });
  });
}

function curlPathAsIs(host, target) {
  const r = spawnSync('curl', ['-s', '-i', '--path-as-is', '--max-time', '5', `http://127.0.0.1:${host.port}${target}`],
    { encoding: 'latin1' });
  assert.strictEqual(r.status, 0, `curl failed: ${r.stderr}`);
  return r.stdout;
}

function assertSecurityHeaders(res, what) {
  assert.strictEqual(res.headers['x-content-type-options'], 'nosniff', `${what}: nosniff`);
  assert.strictEqual(res.headers['content-security-policy'], CSP, `${what}: CSP`);
}

let host;
let fx;

test.before(async () => {
  fx = fixtures();
  host = await startHost({
    config: configWith(['static'], { pluginConfig: { static: { web_root: fx.web } } })
      .replace(/^story: .*$/m, `story: ${fx.story}`),
  });
});

test.after(async () => {
  if (host) {
    await host.stop();
    // under TALE_SANITIZE: no memory error or undefined behaviour while serving
    assert.doesNotMatch(host.stderr(), /ERROR: AddressSanitizer|runtime error:/);
  }
  if (fx) fs.rmSync(fx.dir, { recursive: true, force: true });
});

test('/ and /tale redirect to /tale/', async () => {
  for (const p of ['/', '/tale', '/?x=1']) {
    const res = await request(host, 'GET', p);
    assert.strictEqual(res.status, 302, p);
    assert.strictEqual(res.headers.location, '/tale/', p);
    assertSecurityHeaders(res, p);
  }
});

test('every page renders with its placeholders filled and HTML-escaped', async () => {
  const escapedName = 'Fish &amp; &lt;Chips&gt; &quot;Tale&quot;';
  for (const p of ['/tale/', '/tale/start', '/tale/story', '/tale/about']) {
    const res = await request(host, 'GET', p);
    assert.strictEqual(res.status, 200, p);
    assert.strictEqual(res.headers['content-type'], 'text/html; charset=utf-8', p);
    assertSecurityHeaders(res, p);
    const body = res.body.toString('utf8');
    assert.ok(body.includes(escapedName), `${p} shows the escaped story name`);
    assert.ok(!body.includes('<Chips>'), `${p} never shows the raw name`);
    for (const ph of ['story_name', 'story_version', 'story_author', 'story_author_email', 'tale_version', 'uptime', 'starttime']) {
      assert.ok(!body.includes(`{${ph}}`), `${p}: {${ph}} was replaced`);
    }
  }
  const about = (await request(host, 'GET', '/tale/about')).body.toString('utf8');
  assert.match(about, /<dd id="about-uptime">\d+:\d\d:\d\d<\/dd>/);
  assert.match(about, /<dd id="about-start">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d<\/dd>/);
  assert.match(about, /<dd id="about-server">Tale Host \d+\.\d+\.\d+<\/dd>/);
  assert.match(about, /<dd id="about-author">Tale Host authors tale@example\.org<\/dd>/);
});

test('HEAD answers a page without a body', async () => {
  const res = await request(host, 'HEAD', '/tale/story');
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.length, 0);
  assertSecurityHeaders(res, 'HEAD /tale/story');
});

test('quit without a session answers the goodbye page', async () => {
  const res = await request(host, 'GET', '/tale/quit');
  assert.strictEqual(res.status, 200);
  assert.match(res.body.toString('utf8'), /Goodbye/);
  assertSecurityHeaders(res, '/tale/quit');
});

test('static files carry the right Content-Type', async () => {
  const want = {
    'script.js': 'text/javascript; charset=utf-8',
    'style.css': 'text/css; charset=utf-8',
    'logo.svg': 'image/svg+xml',
    'sample.png': 'image/png',
    'sample.jpg': 'image/jpeg',
    'sample.gif': 'image/gif',
    'sample.ico': 'image/x-icon',
    'sample.webp': 'image/webp',
    'sample.woff2': 'font/woff2',
    'sample.json': 'application/json',
    'index.html': 'text/html; charset=utf-8',
  };
  for (const [file, type] of Object.entries(want)) {
    const res = await request(host, 'GET', `/tale/static/${file}`);
    assert.strictEqual(res.status, 200, file);
    assert.strictEqual(res.headers['content-type'], type, file);
    assert.deepStrictEqual(res.body, fs.readFileSync(path.join(fx.web, file)), `${file} body`);
    assertSecurityHeaders(res, file);
  }
});

test('story images come from the story resources folder', async () => {
  const images = fs.readdirSync(path.join(fx.story, 'resources'));
  assert.ok(images.length > 0);
  for (const img of images) {
    const res = await request(host, 'GET', `/tale/static/resources/${img}`);
    assert.strictEqual(res.status, 200, img);
    assert.deepStrictEqual(res.body, fs.readFileSync(path.join(fx.story, 'resources', img)));
    if (img.endsWith('.svg')) assert.strictEqual(res.headers['content-type'], 'image/svg+xml');
  }
  // a web-root file is not reachable through the resources mount
  assert.strictEqual((await request(host, 'GET', '/tale/static/resources/script.js')).status, 404);
});

test('ETag and Last-Modified validate with 304', async () => {
  const first = await request(host, 'GET', '/tale/static/style.css');
  const etag = first.headers.etag;
  const lastModified = first.headers['last-modified'];
  assert.ok(etag, 'has an ETag');
  assert.ok(lastModified, 'has Last-Modified');
  const byEtag = await request(host, 'GET', '/tale/static/style.css', { 'If-None-Match': etag });
  assert.strictEqual(byEtag.status, 304);
  assert.strictEqual(byEtag.body.length, 0);
  assertSecurityHeaders(byEtag, '304');
  const byDate = await request(host, 'GET', '/tale/static/style.css', { 'If-Modified-Since': lastModified });
  assert.strictEqual(byDate.status, 304);
  const stale = await request(host, 'GET', '/tale/static/style.css', { 'If-None-Match': '"not-the-etag"' });
  assert.strictEqual(stale.status, 200);
});

test('text is gzipped when the client accepts it, images and plain clients are not', async () => {
  const file = fs.readFileSync(path.join(fx.web, 'script.js'));
  const gz = await request(host, 'GET', '/tale/static/script.js', { 'Accept-Encoding': 'gzip' });
  assert.strictEqual(gz.status, 200);
  assert.strictEqual(gz.headers['content-encoding'], 'gzip');
  assert.match(gz.headers.vary || '', /accept-encoding/i);
  assert.ok(gz.body.length < file.length, 'compressed is smaller');
  assert.deepStrictEqual(zlib.gunzipSync(gz.body), file);

  const page = await request(host, 'GET', '/tale/story', { 'Accept-Encoding': 'gzip' });
  assert.strictEqual(page.headers['content-encoding'], 'gzip');
  assert.match(zlib.gunzipSync(page.body).toString('utf8'), /id="textframe"/);

  const plain = await request(host, 'GET', '/tale/static/script.js');
  assert.strictEqual(plain.headers['content-encoding'], undefined);
  const png = await request(host, 'GET', '/tale/static/sample.png', { 'Accept-Encoding': 'gzip' });
  assert.strictEqual(png.headers['content-encoding'], undefined);
});

test('path traversal in every spelling gets 404 and a log line', async () => {
  const targets = [
    '/tale/static/../../../../etc/passwd',
    '/tale/static/../secret.txt',
    '/tale/static/%2e%2e/secret.txt',
    '/tale/static/%2E%2E/%2E%2E/etc/passwd',
    '/tale/static/.%2e/secret.txt',
    '/tale/static/..%2fsecret.txt',
    '/tale/static/%2e%2e%2fsecret.txt',
    '/tale/static/%252e%252e/secret.txt',
    '/tale/static/resources/../../secret.txt',
    '/tale/static/resources/%2e%2e/%2e%2e/secret.txt',
    '/tale/x/../static/../../secret.txt',
    '/tale/static/%c0%ae%c0%ae/secret.txt',
    '/tale/static/..%5csecret.txt',
  ];
  const before = (host.stderr().match(/refused path traversal/g) || []).length;
  for (const t of targets) {
    const res = curlPathAsIs(host, t);
    assert.match(res, /^HTTP\/1\.1 404 /, `${t}: ${res.slice(0, 80)}`);
    assert.ok(!res.includes('TOP-SECRET') && !res.includes('root:'), `${t} leaked`);
    assert.match(res, /x-content-type-options: nosniff/i, `${t}: nosniff`);
  }
  // spellings curl would not send as written: backslashes
  for (const t of ['/tale/static/..\\secret.txt', '/tale/static/..\\..\\..\\etc\\passwd', '/tale/static/sub\\..\\..\\secret.txt']) {
    const res = await rawRequest(host, t);
    assert.match(res, /^HTTP\/1\.1 (404|400) /, `${t}: ${res.slice(0, 80)}`);
    assert.ok(!res.includes('TOP-SECRET') && !res.includes('root:'), `${t} leaked`);
  }
  // symlinks out of the root, and dotfiles
  for (const t of ['/tale/static/escape.txt', '/tale/static/up/secret.txt', '/tale/static/.hidden']) {
    const res = await request(host, 'GET', t);
    assert.strictEqual(res.status, 404, t);
    assert.ok(!res.body.toString().includes('TOP-SECRET'), `${t} leaked`);
  }
  const after = (host.stderr().match(/refused path traversal/g) || []).length;
  assert.ok(after - before >= targets.length + 2, `a log line per refusal (${after - before})`);
  assert.match(host.stderr(), /refused path traversal \(symlink out of [^)]+\) from 127\.0\.0\.1: \/tale\/static\/escape\.txt/);
});

test('unknown paths and folders are 404', async () => {
  for (const p of ['/nope', '/tale/nope', '/tale/storyx', '/tale/story/extra', '/tale/static/nope.js', '/tale/static/',
    '/tale/static/sub', '/tale/static/sub/', '/favicon.ico']) {
    const res = await request(host, 'GET', p);
    assert.strictEqual(res.status, 404, p);
    assertSecurityHeaders(res, p);
  }
});

test('wrong methods get 405 with Allow', async () => {
  for (const [m, p] of [['POST', '/tale/static/style.css'], ['PUT', '/tale/'], ['DELETE', '/tale/about'],
    ['POST', '/tale/story'], ['PUT', '/tale/quit'], ['POST', '/']]) {
    const res = await request(host, m, p);
    assert.strictEqual(res.status, 405, `${m} ${p}`);
    assert.match(res.headers.allow, /GET, HEAD/, `${m} ${p}`);
    assertSecurityHeaders(res, `${m} ${p}`);
  }
});

test('a custom csp and an unknown key are config errors or take effect', async () => {
  const custom = await startHost({
    config: configWith(['static'], { pluginConfig: { static: { web_root: fx.web, csp: "default-src 'none'" } } }),
  });
  try {
    const res = await request(custom, 'GET', '/tale/');
    assert.strictEqual(res.headers['content-security-policy'], "default-src 'none'");
  } finally {
    await custom.stop();
  }
  await assert.rejects(
    startHost({ config: configWith(['static'], { pluginConfig: { static: { web_root: fx.web, webroot: 'x' } } }) }),
    /webroot/);
});

// The start-up check of inline code against the csp setting (issue #17).
const LLAMATALE_WEB = path.join(SRC, 'tests', 'static', 'fixtures', 'llamatale-web');
const CSP_WARNING = /the csp setting blocks \d/g;

async function startupLog(web, csp) {
  const cfg = { web_root: web };
  if (csp !== undefined) cfg.csp = csp;
  const h = await startHost({ config: configWith(['static'], { pluginConfig: { static: cfg } }) });
  try {
    // the check runs in the plugin's start, before the host is listening
    return h.stderr();
  } finally {
    await h.stop();
  }
}

test('a LlamaTale-style web root is named at start with the csp setting to use; ours is not', async () => {
  const warned = await startupLog(LLAMATALE_WEB);
  const lines = warned.split('\n').filter((l) => /the csp setting blocks/.test(l));
  assert.strictEqual(lines.length, 3, warned);
  const story = lines.find((l) => l.includes(path.join(LLAMATALE_WEB, 'story.html')));
  assert.ok(story, warned);
  assert.match(story, /4 inline event handlers \(onload, onsubmit, onkeydown, \.\.\.\) and 1 inline script/);
  assert.match(story, /set csp: "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self' 'unsafe-inline'; connect-src 'self'"/);
  assert.ok(lines.some((l) => l.includes(path.join(LLAMATALE_WEB, 'index.html')) && /1 inline event handler \(onclick\)/.test(l)));
  assert.ok(lines.some((l) => l.includes(path.join(LLAMATALE_WEB, 'help', 'commands.htm'))));

  // the suggested setting (or no policy at all) silences it, and our own client never needs it
  const relaxed = story.match(/set csp: "(.*)"$/)[1];
  assert.doesNotMatch(await startupLog(LLAMATALE_WEB, relaxed), CSP_WARNING);
  assert.doesNotMatch(await startupLog(LLAMATALE_WEB, ''), CSP_WARNING);
  assert.doesNotMatch(await startupLog(path.join(SRC, 'web')), CSP_WARNING);
});

test('the csp warning is capped: ten pages named, the rest counted in one line', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-csp-'));
  for (let i = 0; i < 13; i++) fs.writeFileSync(path.join(dir, `p${i}.html`), `<button onclick="go(${i})">go</button>`);
  fs.writeFileSync(path.join(dir, '.hidden.html'), '<button onclick="x()">never served, never named</button>');
  const log = await startupLog(dir);
  assert.strictEqual((log.match(CSP_WARNING) || []).length, 10, log);
  assert.match(log, /3 more pages below .* have inline code the csp setting blocks/);
  assert.doesNotMatch(log, /hidden/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('beside the ws and sse plugins: each path reaches its own plugin, and quit ends the session', async () => {
  const all = await startHost({ config: configWith(['static', 'ws', 'sse']) });
  try {
    assert.strictEqual((await request(all, 'GET', '/tale/ws')).status, 426, 'ws answers a plain GET itself');
    assert.strictEqual((await request(all, 'GET', '/tale/input')).status, 405, 'sse owns /tale/input');
    assert.strictEqual((await request(all, 'GET', '/tale/story')).status, 200);
    assert.strictEqual((await request(all, 'GET', '/tale/static/script.js')).status, 200);

    // a seat and its cookie from the event stream, then quit with that cookie
    const cookie = await new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: all.port, path: '/tale/eventsource', agent: false }, (res) => {
        assert.strictEqual(res.statusCode, 200);
        assert.match(res.headers['content-type'], /^text\/event-stream/);
        const set = (res.headers['set-cookie'] || [])[0] || '';
        res.destroy();
        resolve(set.split(';')[0]);
      });
      req.on('error', reject);
    });
    assert.match(cookie, /^tale_session=[0-9a-f]{32}$/);
    const quit = await request(all, 'GET', '/tale/quit', { Cookie: cookie });
    assert.strictEqual(quit.status, 200);
    assert.match(quit.body.toString('utf8'), /Goodbye/);
    const deadline = Date.now() + 5000;
    while (!/the player quit; the game is over/.test(all.stderr()) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(all.stderr(), /the player quit; the game is over/);
  } finally {
    await all.stop();
  }
});
