// abi12.test.js - a plugin built against the ABI 1.2 headers (tests/telnet/
// sdk-1.2, frozen) loads in this ABI 1.3 host and works: the echo example,
// compiled against them, plays commands through the current host.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const http = require('http');
const { startHost } = require('../lib/harness');

const SO = process.env.TALE_ECHO_12;

function post(port, body, cookie) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/echo', method: 'POST',
      headers: { 'Content-Type': 'text/plain', ...(cookie ? { Cookie: cookie } : {}) } }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('the echo example built for ABI 1.2 loads in the 1.3 host and plays', async () => {
  assert.ok(SO, 'TALE_ECHO_12 names the plugin built against tests/telnet/sdk-1.2');
  const host = await startHost({ config: [
    'mode: mud', 'story: ${SRC}/conf/stories/lighthouse', 'data_dir: ${TMP}/var', 'autosave: false',
    'listeners:', '  - host: 127.0.0.1', '    port: 0',
    'plugins:', '  - name: echo', `    module: ${SO}`, ''].join('\n') });
  try {
    assert.match(host.stderr(), /loaded plugin 'echo' \(echo [^,]*, ABI 1\.2\)/, 'loaded, reporting the ABI it was built for');
    const first = await post(host.port, 'look');
    assert.strictEqual(first.status, 200);
    const frames = first.body.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(frames.some((f) => f.type === 'text' && /The Jetty/.test(f.location || '')), 'a look answered');
    const cookie = String(first.headers['set-cookie']).split(';')[0];
    const second = await post(host.port, 'north', cookie);
    assert.match(second.body, /The Harbour/, 'the same seat moved on');
  } finally {
    const st = await host.stop();
    assert.strictEqual(st.code, 0);
  }
});
