// fdlimit.test.js - the file descriptor limit (issue #11, finding 4).
//  - At start: max_connections + 64 spare descriptors must fit RLIMIT_NOFILE.
//    The host raises its soft limit as far as needed; when the hard limit is
//    too low it refuses to start with one line saying what to change.  The
//    shipped config starts under a hard limit of 1024.
//  - At run time: when accept() fails with EMFILE the host refuses the
//    connection (503), logs once, pauses accepting for 100 ms instead of
//    spinning on the readable listener, and accepts again once descriptors free.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const net = require('net');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync, execFileSync } = require('child_process');
const { startHost, configWith, SRC, HOST_BIN } = require('../lib/harness');
const { stopClean, sleep, fdCount, rawHttp, bystander } = require('./lib');

// Run tale-host under `prlimit --nofile=SOFT:HARD` with a config; resolve
// { code, stderr, limits } when it exits or once it listens (then SIGTERM it).
function runLimited(config, soft, hard, args = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-test-'));
  const file = path.join(dir, 'tale.yaml');
  fs.writeFileSync(file, config.replace(/\$\{SRC\}/g, SRC).replace(/\$\{TMP\}/g, dir));
  const proc = spawn('prlimit', [`--nofile=${soft}:${hard}`, '--', HOST_BIN, '--config', file, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  let limits = null;
  proc.stdout.on('data', (d) => { out += d; });
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
    proc.stderr.on('data', (d) => {
      err += d;
      if (limits === null && /listening on /.test(err)) {
        limits = fs.readFileSync(`/proc/${proc.pid}/limits`, 'utf8');
        proc.kill('SIGTERM');
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      fs.rmSync(dir, { recursive: true, force: true });
      resolve({ code, stderr: err, stdout: out, limits });
    });
  });
}

function openFilesLimit(limitsText) {
  const m = /Max open files\s+(\d+)\s+(\d+)/.exec(limitsText);
  return m ? { soft: Number(m[1]), hard: Number(m[2]) } : null;
}

test('start-up: a hard fd limit below max_connections + 64 refuses with one clear line', async () => {
  const cfg = configWith(['static'], { limits: { max_connections: 1024 } });
  const r = await runLimited(cfg, 1024, 1024);
  assert.strictEqual(r.code, 1, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.split('\n').filter((l) => /error/.test(l));
  assert.strictEqual(lines.length, 1, r.stderr);
  assert.match(lines[0], /limits\.max_connections \(1024\) needs 1088 file descriptors but the hard limit is 1024: raise it \(ulimit -Hn, LimitNOFILE=\) or lower limits\.max_connections$/);
  assert.doesNotMatch(r.stderr, /listening on/);
});

test('start-up: --check-config only warns about the fd limit', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-test-'));
  const file = path.join(dir, 'tale.yaml');
  fs.writeFileSync(file, configWith(['static'], { limits: { max_connections: 1024 } }).replace(/\$\{SRC\}/g, SRC).replace(/\$\{TMP\}/g, dir));
  const r = spawnSync('prlimit', ['--nofile=1024:1024', '--', HOST_BIN, '--check-config', file], { encoding: 'utf8', timeout: 10000 });
  fs.rmSync(dir, { recursive: true, force: true });
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /: OK/);
  assert.match(r.stderr, /warn.*limits\.max_connections \(1024\) needs 1088 file descriptors but the hard limit is 1024/);
});

test('start-up: the shipped config starts under a hard fd limit of 1024', async () => {
  const text = fs.readFileSync(path.join(SRC, 'conf/tale.yaml'), 'utf8')
    .replace(/story: .*/, 'story: ${SRC}/conf/stories/lighthouse')
    .replace(/data_dir: .*/, 'data_dir: ${TMP}/var')
    .replace(/web_root: .*/, 'web_root: ${SRC}/web')
    .replace(/port: 8180/, 'port: 0');
  const r = await runLimited(text, 1024, 1024);
  assert.ok(r.limits !== null, `it listened (stderr: ${r.stderr})`);
  assert.strictEqual(r.code, 0, r.stderr);
});

test('start-up: a low soft limit is raised to what max_connections needs', async () => {
  const r = await runLimited(configWith(['static'], { limits: { max_connections: 1000 } }), 256, 4096);
  assert.ok(r.limits !== null, `it listened (stderr: ${r.stderr})`);
  const lim = openFilesLimit(r.limits);
  assert.ok(lim.soft >= 1064 && lim.hard === 4096, JSON.stringify(lim));
  assert.strictEqual(r.code, 0, r.stderr);
});

// CPU seconds (user + system) the process has used so far (/proc/PID/stat
// fields 14 and 15, in clock ticks).
const TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString()) || 100;
function cpuSeconds(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / TICKS;
}

function hold(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const c = { sock: s, answer: '', closed: false };
    s.on('connect', () => resolve(c));
    s.on('data', (d) => { c.answer += d; });
    s.on('close', () => { c.closed = true; });
    s.on('error', (e) => { c.error = e.code; resolve(c); });
  });
}

test('run time: out of descriptors at accept -> 503, one log line, no busy loop, recovers', { timeout: 60000 }, async (t) => {
  const host = await startHost({
    config: configWith(['static', 'ws'], { mode: 'mud', limits: { input_rate: 0, max_connections: 1000, max_connections_per_address: 0 } }),
  });
  const pid = host.proc.pid;
  try {
    const b = await bystander(host, { every: 300, maxMs: 3000 });
    assert.strictEqual((await rawHttp(host.port, 'GET /tale/ HTTP/1.1\r\nHost: x\r\n\r\n')).status, 200);
    await sleep(200);
    const fds0 = fdCount(pid);
    const limit = fds0 + 20;
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${limit}:${limit}`]);

    // 60 idle connections: about 20 fit, the rest hit EMFILE
    const crowd = await Promise.all(Array.from({ length: 60 }, () => hold(host.port)));
    await sleep(300);
    const cpu0 = cpuSeconds(pid);
    const t0 = Date.now();
    await sleep(1500);
    const share = (cpuSeconds(pid) - cpu0) / ((Date.now() - t0) / 1000);
    const refused = crowd.filter((c) => c.closed);
    t.diagnostic(`out of descriptors: ${Math.round(share * 100)} % CPU, ${refused.length} of ${crowd.length} refused`);
    assert.ok(share < 0.5, `the host used ${Math.round(share * 100)} % of a CPU while out of descriptors`);
    assert.ok(refused.length >= 5, `${refused.length} refused within 1.8 s`);
    for (const c of refused) assert.match(c.answer, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    const warns = host.stderr().split('\n').filter((l) => /accept: Too many open files/.test(l));
    assert.strictEqual(warns.length, 1, host.stderr());
    await b.check();

    // the crowd leaves: the host accepts again and says how many it refused
    for (const c of crowd) c.sock.destroy();
    const t1 = Date.now();
    while (fdCount(pid) > fds0 + 1 && Date.now() - t1 < 5000) await sleep(100);
    // The crowd's unaccepted connections are still queued on the listener and
    // may briefly take the descriptors again as the host drains them (under
    // ASan that takes a while): recovered means a 200 within a few seconds.
    let status = 0;
    for (const t2 = Date.now(); Date.now() - t2 < 5000; await sleep(200)) {
      status = (await rawHttp(host.port, 'GET /tale/ HTTP/1.1\r\nHost: x\r\n\r\n')).status;
      if (status === 200) break;
    }
    assert.strictEqual(status, 200);
    assert.match(host.stderr(), /accepting again: \d+ connection\(s\) were refused while out of file descriptors/);
    await b.stop();
  } finally {
    await stopClean(host);
  }
});
