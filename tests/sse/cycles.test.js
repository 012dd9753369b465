// cycles.test.js - 1,000 event-stream connect/disconnect cycles against the
// real host leave its open file descriptors and RSS flat (issue 4, "Both").
'use strict';
const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const { startHost, configWith } = require('../lib/harness');
const { openRaw, postInput } = require('./client');

function fdCount(pid) { return fs.readdirSync(`/proc/${pid}/fd`).length; }
function rssKb(pid) { return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function cycles(host, cookie, n) {
  for (let i = 0; i < n; i++) {
    const s = await openRaw(host.url, { cookie });
    await s.waitFor((x) => x.comments.length > 0, 5000, 'the opening comment');
    s.close();
  }
}

test('1,000 stream connect/disconnect cycles leave fds and RSS flat', { timeout: 120000 }, async (t) => {
  const host = await startHost({ config: configWith(['sse'], { tick: '1s', pluginConfig: { sse: { keepalive: '200ms' } } }) });
  try {
    const pid = host.proc.pid;
    const first = await openRaw(host.url);
    await first.waitFor((x) => x.frames().length > 0, 5000, 'the backlog');
    const cookie = first.cookie;
    first.close();
    // Warm up: pools and buffers reach their working size.
    await cycles(host, cookie, 100);
    await sleep(500);
    const fds0 = fdCount(pid);
    const rss0 = rssKb(pid);
    await cycles(host, cookie, 1000);
    await sleep(800); // a few keepalive intervals: every dropped stream is noticed
    const fds1 = fdCount(pid);
    const rss1 = rssKb(pid);
    t.diagnostic(`fds ${fds0} -> ${fds1}, RSS ${rss0} -> ${rss1} kB`);
    assert.ok(fds1 <= fds0 + 2, `open fds ${fds0} -> ${fds1}`);
    // AddressSanitizer parks freed memory in a quarantine, so RSS says nothing there.
    const asan = /libasan/.test(fs.readFileSync(`/proc/${pid}/maps`, 'utf8'));
    if (asan) t.diagnostic('ASan build: RSS not compared');
    else assert.ok(rss1 - rss0 < 2048, `RSS ${rss0} kB -> ${rss1} kB`);
    // and the game still plays
    const s = await openRaw(host.url, { cookie });
    const n = (await s.waitFor((x) => x.frames().length > 0, 5000, 'backlog')).frames().length;
    assert.strictEqual((await postInput(host.url, cookie, 'cmd=look')).status, 204);
    await s.waitFor((x) => x.frames().length > n, 5000, 'the answer');
    s.close();
  } finally {
    const { code } = await host.stop();
    assert.strictEqual(code, 0, host.stderr());
  }
});
