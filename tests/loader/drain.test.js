// drain.test.js - the shutdown contract for a plugin that owns raw sockets
// (issue #16): the goodbye rawsock.so writes in stop() reaches every client
// before destroy() closes them, and the host exits 0.  With `hold: true` the
// plugin's drain() keeps the loop running for its writes; with `hold: false`
// the one loop turn the host always runs after stop() carries them.
//
// tests/valgrind runs this file again with TALE_HOST pointing at valgrind
// (TALE_VALGRIND_LOG set): exit code 99 there means memcheck found errors.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const net = require('net');
const path = require('path');
const { startHost, configWith, SRC } = require('../lib/harness');

const PLUGINS = process.env.TALE_TEST_PLUGINS || path.join(SRC, 'build', 'test-plugins');
const VALGRIND = !!process.env.TALE_VALGRIND_LOG;
const SLOW = VALGRIND ? 60000 : 8000;

function config(hold) {
  return configWith([]) +
    `  - name: raw\n    module: ${JSON.stringify(path.join(PLUGINS, 'rawsock.so'))}\n` +
    `    config:\n      port_file: raw.port\n      hold: ${hold}\n`;
}

// A client of the plugin's raw socket: everything it read, and when it ended.
function connect(port) {
  return new Promise((resolve, reject) => {
    const c = { text: '', ended: false };
    c.sock = net.connect(port, '127.0.0.1', () => resolve(c));
    c.sock.setEncoding('utf8');
    c.sock.on('data', (d) => { c.text += d; });
    c.sock.on('end', () => { c.ended = true; });
    c.sock.on('close', () => { c.ended = true; });
    c.sock.on('error', reject);
  });
}

function waitUntil(pred, what) {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (pred()) return resolve();
      if (Date.now() - t0 > SLOW) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(poll, 10);
    };
    poll();
  });
}

for (const hold of [true, false]) {
  test(`raw-socket clients get the goodbye written in stop() and a close from destroy() (hold: ${hold})`, async () => {
    const host = await startHost({ config: config(hold), timeoutMs: SLOW });
    let stopped = false;
    try {
      const port = Number(fs.readFileSync(path.join(host.dir, 'raw.port'), 'utf8'));
      assert.ok(port > 0, 'the plugin wrote no port');
      const clients = [await connect(port), await connect(port), await connect(port)];
      for (const c of clients) await waitUntil(() => c.text === 'hello\n', 'the hello');

      const res = await host.stop('SIGTERM', SLOW * 2);
      stopped = true;
      assert.equal(res.signal, null, `host died of ${res.signal}:\n${host.stderr()}`);
      assert.equal(res.code, 0, `exit ${res.code}${VALGRIND ? ' (99: memcheck errors, see ' + process.env.TALE_VALGRIND_LOG + ')' : ''}:\n${host.stderr()}`);
      for (const c of clients) {
        await waitUntil(() => c.ended, 'the close');
        assert.equal(c.text, 'hello\ngoodbye\n');
      }
      assert.doesNotMatch(host.stderr(), /still open after/);
      if (!VALGRIND) assert.ok(res.ms < 2500, `shutdown took ${res.ms} ms: the drain waited for nothing`);
    } finally {
      if (!stopped) await host.stop('SIGKILL');
      fs.rmSync(host.dir, { recursive: true, force: true });
    }
  });
}
