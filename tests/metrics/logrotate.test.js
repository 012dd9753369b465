// logrotate.test.js - the shipped conf/logrotate/tale-host run by the real
// logrotate (Debian `logrotate`, scripts/install-deps.sh) against a running
// host writing a JSON access log (issue #17, docs/DEPLOY.md "Access log"):
// `logrotate -d` reads it and moves nothing; a forced rotation moves the
// file, creates the new one, and its postrotate signal makes the host log
// into the new file.  The shipped postrotate signals the systemd unit; here,
// with no systemd, that one line becomes a kill -USR1 of the test's host,
// and the test checks the line it replaces still names the unit we install.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const http = require('http');
const { spawnSync } = require('child_process');
const { startHost, configWith, SRC } = require('../lib/harness');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const SHIPPED = path.join(SRC, 'conf/logrotate/tale-host');
const SHIPPED_LOG = '/var/log/tale-host/access.log';
const POSTROTATE = 'systemctl kill --signal=SIGUSR1 --kill-whom=main tale-host.service 2>/dev/null || true';

// A missing logrotate is a failure, not a skip.
function logrotate(args) {
  const r = spawnSync('logrotate', args, { encoding: 'utf8', timeout: 20000 });
  if (r.error) throw new Error(`logrotate (Debian package logrotate) could not run: ${r.error.message}`);
  return r;
}

function get(host, p) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: host.port, path: p, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

// The request paths in a JSON access log, once the host's 1 s flush has run.
async function paths(file, want, ms = 4000) {
  const t0 = Date.now();
  for (;;) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    const got = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l).path);
    if (!want || got.includes(want) || Date.now() - t0 > ms) return got;
    await sleep(100);
  }
}

test('the shipped postrotate signals the unit cmake installs, with the signal that only reopens logs', () => {
  const conf = fs.readFileSync(SHIPPED, 'utf8');
  assert.ok(conf.includes(`${SHIPPED_LOG} {`), 'the shipped conf rotates the path DEPLOY.md configures');
  assert.ok(conf.includes(POSTROTATE), 'postrotate line');
  const unit = fs.readFileSync(path.join(SRC, 'dist/systemd/tale-host.service.in'), 'utf8');
  // --kill-whom=main: the host, not a helper it started; USR1, not the unit's reload signal (HUP re-reads the config)
  assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  assert.doesNotMatch(unit, /^KillSignal=SIGUSR1/m);
});

test('logrotate -d, then a forced rotation: the running host logs into the new file', async () => {
  const host = await startHost({
    config: configWith(['metrics'], { extra: 'access_log:\n  path: ${TMP}/access.log\n  format: json' }),
  });
  try {
    const log = path.join(host.dir, 'access.log');
    const state = path.join(host.dir, 'logrotate.status');
    const conf = path.join(host.dir, 'tale-host.logrotate');
    let text = fs.readFileSync(SHIPPED, 'utf8').split(SHIPPED_LOG).join(log).split(POSTROTATE).join(`kill -USR1 ${host.proc.pid}`);
    // `create 0640 root adm` needs root to chown; anyone else creates it as themselves
    if (process.getuid() !== 0) text = text.replace(/^(\s*create 0640) root adm$/m, '$1');
    fs.writeFileSync(conf, text, { mode: 0o644 });

    assert.strictEqual(await get(host, '/metrics?before'), 200);
    assert.ok((await paths(log, '/metrics?before')).includes('/metrics?before'));

    // -d: reads the conf, says what it would do, touches nothing
    let r = logrotate(['-d', '-s', state, conf]);
    assert.strictEqual(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, new RegExp(`considering log ${log.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.ok(!fs.existsSync(`${log}.1`), 'debug mode moved nothing');

    // a real, forced rotation with its postrotate
    r = logrotate(['-f', '-s', state, conf]);
    assert.strictEqual(r.status, 0, r.stdout + r.stderr);
    assert.ok(fs.existsSync(`${log}.1`), 'rotated to access.log.1 (delaycompress: not compressed yet)');
    assert.ok(fs.existsSync(log), '`create` made the new file');
    assert.strictEqual((fs.statSync(log).mode & 0o777).toString(8), '640');
    const t0 = Date.now();
    while (!/reopened .*access\.log/.test(host.stderr())) {
      if (Date.now() - t0 > 5000) throw new Error(`the host never reopened its log:\n${host.stderr()}`);
      await sleep(50);
    }

    assert.strictEqual(await get(host, '/metrics?after'), 200);
    assert.deepStrictEqual(await paths(log, '/metrics?after'), ['/metrics?after']);
    const old = await paths(`${log}.1`);
    assert.ok(old.includes('/metrics?before') && !old.includes('/metrics?after'), old.join(' '));
    assert.ok(fs.readFileSync(state, 'utf8').includes(log), 'the state file records the rotation');

    // the next forced rotation compresses the one before (compress + delaycompress)
    r = logrotate(['-f', '-s', state, conf]);
    assert.strictEqual(r.status, 0, r.stdout + r.stderr);
    assert.ok(fs.existsSync(`${log}.2.gz`), fs.readdirSync(path.dirname(log)).join(' '));
    assert.strictEqual(host.proc.exitCode, null, 'the signal did not stop the host');
  } finally {
    await host.stop();
  }
});
