// walkthrough.test.js - play the bundled story to its ending through the
// console transport: the real tale-host, commands piped into its stdin, the
// story read back from its stdout.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const SRC = path.resolve(__dirname, '..', '..');
const HOST_BIN = process.env.TALE_HOST || path.join(SRC, 'build', 'tale-host');
const STORY = path.join(SRC, 'conf', 'stories', 'lighthouse');

// The walkthrough as kept beside the story: one command a line, '#' comments.
function walkthrough() {
  return fs.readFileSync(path.join(STORY, 'WALKTHROUGH.txt'), 'utf8')
    .split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

// Run tale-host with only the console plugin; feed `lines`, close stdin, and
// resolve with what it printed once it exits (the console quits on EOF).
// With tty, the host runs under script(1), whose pseudo-terminal is its stdin and stdout.
function play(lines, { timeoutMs = 30000, tty = false } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-console-'));
  const config = path.join(dir, 'console.yaml');
  fs.writeFileSync(config, [
    'mode: if',
    `story: ${STORY}`,
    `data_dir: ${path.join(dir, 'var')}`,
    'autosave: false',
    'tick: 1s',
    'log_level: info',
    'listeners:',
    '  - host: 127.0.0.1',
    '    port: 0',
    'plugins:',
    '  - name: console',
    '    module: console',
    '',
  ].join('\n'));
  const quote = (a) => `'${a.replace(/'/g, "'\\''")}'`;
  const proc = tty
    ? spawn('script', ['-qefc', `${quote(HOST_BIN)} --config ${quote(config)} --log-level warn`, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, TERM: 'xterm', NO_COLOR: '' },
    })
    : spawn(HOST_BIN, ['--config', config], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { err += d; });
  proc.stdin.on('error', () => {}); // an early exit is reported below, with stderr
  proc.stdin.end(lines.map((l) => l + '\n').join(''));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`tale-host did not exit within ${timeoutMs} ms\n--- stdout\n${out}\n--- stderr\n${err}`));
    }, timeoutMs);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      fs.rmSync(dir, { recursive: true, force: true });
      resolve({ code, signal, out, err });
    });
  });
}

// Each needle must appear, in this order, after the previous one.
function assertInOrder(text, needles) {
  let at = 0;
  for (const n of needles) {
    const i = text.indexOf(n, at);
    assert.ok(i >= 0, `expected "${n}" after offset ${at} in:\n${text}`);
    at = i + n.length;
  }
}

test('the walkthrough plays the bundled story to its ending on stdin/stdout', async () => {
  const r = await play(walkthrough());
  assert.strictEqual(r.code, 0, `exit ${r.code ?? r.signal}\n${r.err}`);
  assertInOrder(r.out, [
    "The Lighthouse Keeper's Daughter",  // the welcome
    'The Jetty',                          // the first look
    'A toy boat!',                        // examining the pool reveals it
    'Bram gives you the tower key',       // the toy boat for the key
    'Agnes gives you the storm lantern',  // the letter for the lantern
    'Combination',                        // the logbook's page
    '1862',
    'The shackle drops open',             // the oil store opens
    'The Spiral Stair',                   // through the unlocked tower door
    'pour the paraffin into the reservoir',
    'A blue flame creeps all the way round',
    'The light is turning.',              // the ending
    '*** The End ***',
  ]);
});

test('console output to a pipe is plain text: no tags, no entities, no escape sequences', async () => {
  const r = await play(['look', 'examine nets']);
  assert.strictEqual(r.code, 0, r.err);
  assert.match(r.out, /The Jetty/);
  assert.match(r.out, /Brown nets, mended a hundred times/);
  assert.doesNotMatch(r.out, /\x1b\[/);
  assert.doesNotMatch(r.out, /<\/?(p|span|pre)\b/);
  assert.doesNotMatch(r.out, /&(amp|lt|gt|quot|#\d+);/);
  assert.match(r.out, /The Lighthouse Keeper's Daughter/); // &#39; arrives as an apostrophe
});

test('without reading the logbook the oil store stays locked and the story does not end', async () => {
  const lines = walkthrough().filter((l) => l !== 'read logbook');
  const r = await play(lines);
  assert.strictEqual(r.code, 0, r.err);
  assert.match(r.out, /you don't know which one it is/);
  assert.doesNotMatch(r.out, /The shackle drops open/);
  assert.doesNotMatch(r.out, /\*\*\* The End \*\*\*/);
});

test('player input that looks like markup is shown as typed, never interpreted', async () => {
  const r = await play(['say <b>ahoy</b> &amp; <script>x</script>']);
  assert.strictEqual(r.code, 0, r.err);
  // the engine escapes input; the console decodes the escapes back to the typed text
  assert.match(r.out, /<b>ahoy<\/b> &amp; <script>x<\/script>/);
});

test('the shipped conf/console.yaml and its story pass the host\'s config check', () => {
  const r = spawnSync(HOST_BIN, ['--check-config', path.join(SRC, 'conf', 'console.yaml')], { encoding: 'utf8', timeout: 20000 });
  assert.strictEqual(r.status, 0, r.stderr);
});

const haveScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

test('on a terminal: style classes become ANSI attributes, a prompt shows, input is not echoed twice',
  { skip: !haveScript && 'script(1) is not installed' }, async () => {
    const r = await play(['examine nets', 'north'], { tty: true });
    assert.strictEqual(r.code, 0, r.err);
    assert.ok(r.out.includes('\x1b[0;1;36mThe Jetty\x1b[0m'), `location title in bold cyan:\n${JSON.stringify(r.out)}`);
    assert.ok(r.out.includes('\x1b[0;1;36mThe Harbour\x1b[0m'), 'the move was played');
    assert.ok(r.out.includes('> '), 'a prompt');
    // the terminal echoes what is typed; the engine's echo of it is left out
    assert.strictEqual(r.out.split('examine nets').length - 1, 1, JSON.stringify(r.out));
    assert.match(r.out, /Brown nets, mended a hundred times/);
  });

test('when nobody reads stdout any more, the game ends and the host exits', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-console-'));
  const config = path.join(dir, 'console.yaml');
  fs.writeFileSync(config, `mode: if\nstory: ${STORY}\ndata_dir: ${path.join(dir, 'var')}\nautosave: false\n` +
    'listeners:\n  - host: 127.0.0.1\n    port: 0\nplugins:\n  - name: console\n    module: console\n');
  const proc = spawn(HOST_BIN, ['--config', config], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  proc.stdin.on('error', () => {});
  try {
    // the welcome arrives; then the reader goes away (like `tale-host ... | head -1`)
    await new Promise((resolve) => proc.stdout.once('data', resolve));
    proc.stdout.destroy();
    proc.stdin.write('look\n');
    const code = await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`still running 8 s after stdout closed\n${err}`)), 8000);
      proc.on('exit', (c) => { clearTimeout(t); resolve(c); });
    });
    assert.strictEqual(code, 0, err);
    assert.match(err, /the game is over/);
  } finally {
    proc.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
