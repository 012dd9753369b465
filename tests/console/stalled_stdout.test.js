// stalled_stdout.test.js - the console transport never blocks the loop when
// its stdout stops being read.  The real host runs the console and ws
// transports (MUD mode); the console's stdout is a pipe nobody reads while
// its stdin is flooded with commands.  Meanwhile a WebSocket player keeps
// getting answers, the host's memory stays bounded (output past max_backlog
// is dropped), and once the pipe is read again the console says how much was
// dropped and goes on printing.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { configWith, SRC, HOST_BIN } = require('../lib/harness');
const { sleep, rssKb, underSanitizer, bystander } = require('../hostile/lib');

const LOOKS = 4000; // ~600 bytes of output each: far past the pipe, node's buffer and the backlog

function startHost() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-console-stall-'));
  const text = configWith(['ws', 'console'], {
    mode: 'mud',
    pluginConfig: { console: { max_backlog: '16k', drain_timeout: '1s' } },
  }).replace(/\$\{SRC\}/g, SRC).replace(/\$\{TMP\}/g, dir);
  const file = path.join(dir, 'tale.yaml');
  fs.writeFileSync(file, text);
  const proc = spawn(HOST_BIN, ['--config', file], { stdio: ['pipe', 'pipe', 'pipe'] });
  proc.stdout.pause(); // read nothing: the pipe fills, then the host's writes would block
  proc.stdin.on('error', () => {});
  let err = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { err += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`no listener in 10 s:\n${err}`)); }, 10000);
    const poll = setInterval(() => {
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
      if (m) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve({ proc, dir, port: Number(m[1]), url: `http://127.0.0.1:${m[1]}`, stderr: () => err });
      }
    }, 20);
    proc.on('exit', (code, sig) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`tale-host exited (${code ?? sig}):\n${err}`));
    });
  });
}

test('a console whose stdout is not read keeps the game going for everyone, in bounded memory', async () => {
  const host = await startHost();
  try {
    const player = await bystander(host, { every: 200, maxMs: 2000 });
    host.proc.stdin.write('look\n'.repeat(LOOKS));
    await sleep(1500);
    const rss0 = rssKb(host.proc.pid);
    host.proc.stdin.write('look\n'.repeat(LOOKS)); // as much again, all of it dropped
    await sleep(1500);
    await player.check(); // answered all along, and now
    assert.match(host.stderr(), /stdout is not being read: dropping output/);
    if (!underSanitizer(host.proc.pid)) {
      const grown = rssKb(host.proc.pid) - rss0;
      assert.ok(grown < 4096, `the host grew by ${grown} KiB while its console output was dropped`);
    }

    // Read the pipe again: the console drains, says what was lost, and goes on.
    let out = '';
    host.proc.stdout.setEncoding('utf8');
    host.proc.stdout.on('data', (d) => { out += d; });
    host.proc.stdout.resume();
    const seen = async (re, ms) => {
      for (const t0 = Date.now(); Date.now() - t0 < ms; await sleep(20)) if (re.test(out)) return true;
      return false;
    };
    assert.ok(await seen(/the terminal stopped reading; \d+ bytes of output were dropped/, 5000),
      `no drop notice in the console's output (${out.length} bytes read):\n${out.slice(-600)}`);
    const at = out.length;
    host.proc.stdin.write('xyzzy-after-the-stall\n');
    assert.ok(await seen(/xyzzy-after-the-stall/, 5000), `no output after the stall:\n${out.slice(at, at + 600)}`);
    await player.stop();
  } finally {
    host.proc.stdin.end();
    const exited = new Promise((res) => host.proc.once('exit', (code, sig) => res({ code, sig })));
    host.proc.kill('SIGTERM');
    const timer = setTimeout(() => host.proc.kill('SIGKILL'), 8000);
    const r = await exited;
    clearTimeout(timer);
    fs.rmSync(host.dir, { recursive: true, force: true });
    assert.equal(r.code, 0, `the host exits 0 after SIGTERM (${r.code ?? r.sig}):\n${host.stderr().slice(-2000)}`);
  }
});
