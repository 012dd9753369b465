// sd_notify against a stand-in for systemd's socket (notify_sink): READY=1
// once the port accepts, WATCHDOG=1 from the loop when WATCHDOG_USEC is set,
// RELOADING=1 then READY=1 around a SIGHUP, STOPPING=1 on SIGTERM.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { startHost, configWith } = require('../lib/harness');
const { sleep } = require('../ws/client');

const SINK = process.env.TALE_NOTIFY_SINK || path.resolve(__dirname, '../../build/tests/systemd/notify_sink');

function startSink() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-notify-'));
  const sock = path.join(dir, 'notify');
  const proc = spawn(SINK, [sock, '60'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = [];
  let buf = '';
  proc.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  const until = async (pred, ms = 5000) => {
    const t0 = Date.now();
    for (;;) {
      const i = lines.findIndex(pred);
      if (i >= 0) return i;
      if (Date.now() - t0 > ms) throw new Error(`no such notification in ${ms} ms; got ${JSON.stringify(lines)}`);
      await sleep(10);
    }
  };
  return { sock, lines, until, stop: () => proc.kill('SIGTERM'), proc };
}

const accepts = (port) => new Promise((resolve) => {
  const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
  s.on('error', () => resolve(false));
});

test('READY, WATCHDOG, RELOADING/READY and STOPPING reach NOTIFY_SOCKET', async () => {
  const sink = startSink();
  await sink.until((l) => l === 'LISTENING');
  const host = await startHost({
    config: configWith(['ws']),
    env: { NOTIFY_SOCKET: sink.sock, WATCHDOG_USEC: '200000' },
  });
  try {
    await sink.until((l) => l === 'READY=1');
    assert.ok(await accepts(host.port), 'the port accepts once READY=1 was sent');
    // the watchdog every 100 ms: several in half a second
    await sleep(500);
    const pings = sink.lines.filter((l) => l === 'WATCHDOG=1').length;
    assert.ok(pings >= 3, `${pings} WATCHDOG=1 in 500 ms`);
    assert.match(host.stderr(), /systemd watchdog: pinging every 100 ms/);

    host.proc.kill('SIGHUP');
    const rel = await sink.until((l) => /^RELOADING=1 MONOTONIC_USEC=\d+$/.test(l));
    await sink.until((l, i) => i > rel && l === 'READY=1');

    const r = await host.stop();
    assert.strictEqual(r.code, 0, host.stderr());
    await sink.until((l) => l === 'STOPPING=1');
    assert.ok(sink.lines.indexOf('STOPPING=1') > rel);
  } finally {
    await host.stop();
    sink.stop();
  }
});

test('without NOTIFY_SOCKET nothing is sent and nothing is logged about it', async () => {
  delete process.env.NOTIFY_SOCKET; // the harness passes process.env on
  delete process.env.WATCHDOG_USEC;
  const host = await startHost({ config: configWith(['ws']) });
  try {
    host.proc.kill('SIGHUP');
    await sleep(200);
    assert.doesNotMatch(host.stderr(), /sd_notify|watchdog/);
    assert.strictEqual((await host.stop()).code, 0);
  } finally {
    await host.stop();
  }
});
