// plugin_lookup.test.js - a plugin module that is not found is refused with
// one line naming every folder searched (plugin_path, then the host's own
// folders), and a name that already ends in .so is not given a second one.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { configWith, HOST_BIN } = require('../lib/harness');

const SRC = path.resolve(__dirname, '..', '..');

function check(module, pluginPath) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-lookup-'));
  try {
    fs.mkdirSync(path.join(dir, 'extra'));
    const text = configWith([], { extra: `plugin_path: [ ${pluginPath} ]` })
      .replace(/\$\{SRC\}/g, SRC).replace(/\$\{TMP\}/g, dir) + `  - name: gone\n    module: ${module}\n`;
    const file = path.join(dir, 'tale.yaml');
    fs.writeFileSync(file, text);
    const r = spawnSync(HOST_BIN, ['--check-config', file], { encoding: 'utf8', timeout: 20000 });
    const errs = r.stderr.split('\n').filter((l) => /^\S+\s+error\s/.test(l));
    return { status: r.status, errs, dir: fs.realpathSync(dir), stderr: r.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('a missing bare module names plugin_path and the host\'s own folders, with .so added once', () => {
  const r = check('missing2.so', 'extra');
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.errs.length, 1, r.stderr);
  const line = r.errs[0];
  assert.doesNotMatch(line, /\.so\.so/, line);
  const own = path.join(fs.realpathSync(path.dirname(HOST_BIN)), 'plugins');
  assert.ok(line.includes(`file not found (looked for missing2.so in ${r.dir}/extra, ${own}, `), line);
});

test('a missing bare module without .so is looked for as <name>.so', () => {
  const r = check('missing3', 'extra');
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.errs[0], /'gone' \(missing3\): file not found \(looked for missing3\.so in /);
});
