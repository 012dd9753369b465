// plugin_perms.test.js - the loader refuses a plugin file that someone other
// than the host's user could have written (issue #11, finding 7a): a file or
// folder writable by group or others, or owned by another user.  A sticky
// root-owned folder such as /tmp is fine above the file's own folder, not as
// it.  `plugin_permissions: warn` logs the same line as a warning and loads.
//
// Each test copies the lifecycle fixture ($TALE_TEST_PLUGINS/lifecycle.so)
// into a private temp folder and sets the modes it needs.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { configWith, SRC, HOST_BIN } = require('../lib/harness');

const PLUGINS = process.env.TALE_TEST_PLUGINS || path.join(SRC, 'build', 'test-plugins');
const isRoot = process.getuid() === 0;

const tempDirs = [];
test.after(() => {
  for (const d of tempDirs) {
    fs.chmodSync(d, 0o700);
    fs.rmSync(d, { recursive: true, force: true });
  }
});

// A private folder (mode 0700, in /tmp) and the fixture copied to dir/rel.
function placePlugin(rel) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-perms-'));
  tempDirs.push(dir);
  const file = path.join(dir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  fs.copyFileSync(path.join(PLUGINS, 'lifecycle.so'), file);
  fs.chmodSync(file, 0o755);
  return { dir, file };
}

// --check-config with one plugin entry named 'perm' loading `module`.
function check(dir, module, extra = '') {
  const text = configWith([], { extra }) +
    `  - name: perm\n    module: ${JSON.stringify(module)}\n    config:\n      log: life.log\n`;
  const file = path.join(dir, 'tale.yaml');
  fs.writeFileSync(file, text.replace(/\$\{SRC\}/g, SRC).replace(/\$\{TMP\}/g, dir));
  const line = text.split('\n').indexOf('  - name: perm') + 1;
  const r = spawnSync(HOST_BIN, ['--check-config', file], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.error, undefined, `could not run ${HOST_BIN}: ${r.error}`);
  const lines = (level) => r.stderr.split('\n').filter((l) => new RegExp(`^\\S+\\s+${level}\\s`).test(l));
  return { status: r.status, signal: r.signal, stderr: r.stderr, errors: lines('error'), warnings: lines('warn'), where: `${file}:${line}:` };
}

// Exit 1 and one error line: location, plugin, file, and the reason.
function assertRefused(r, file, reason) {
  assert.equal(r.signal, null, r.stderr);
  assert.equal(r.status, 1, `expected exit 1:\n${r.stderr}`);
  assert.equal(r.errors.length, 1, `expected one error line:\n${r.stderr}`);
  const l = r.errors[0];
  for (const part of [r.where, "plugin 'perm'", `(${file})`, 'unsafe permissions: ']) assert.ok(l.includes(part), `no ${part} in: ${l}`);
  assert.match(l, reason);
  assert.match(l, /chmod go-w .*plugin_permissions: warn/);
}

test('a group-writable plugin file is refused', () => {
  const { dir, file } = placePlugin('lifecycle.so');
  fs.chmodSync(file, 0o775);
  assertRefused(check(dir, file), file, new RegExp(`the file ${file} is writable by group \\(mode 0775\\)`));
});

test('an other-writable plugin file is refused', () => {
  const { dir, file } = placePlugin('lifecycle.so');
  fs.chmodSync(file, 0o757);
  assertRefused(check(dir, file), file, /the file .* is writable by others \(mode 0757\)/);
});

test('an other-writable folder holding the plugin is refused', () => {
  const { dir, file } = placePlugin('plugins/lifecycle.so');
  fs.chmodSync(path.dirname(file), 0o777);
  assertRefused(check(dir, file), file, new RegExp(`the folder ${path.dirname(file)} is writable by group and others \\(mode 0777\\)`));
});

test('a group-writable folder further up is refused', () => {
  const { dir, file } = placePlugin('a/b/lifecycle.so');
  fs.chmodSync(path.join(dir, 'a'), 0o775);
  assertRefused(check(dir, file), file, new RegExp(`the folder ${path.join(dir, 'a')} is writable by group \\(mode 0775\\)`));
});

test('a sticky world-writable folder is refused as the file\'s own folder', () => {
  const { dir, file } = placePlugin('drop/lifecycle.so');
  fs.chmodSync(path.dirname(file), 0o1777);
  assertRefused(check(dir, file), file, /the folder .*\/drop is writable by group and others \(mode 1777\)/);
});

test('a plugin found by bare name on an unsafe plugin_path is refused', () => {
  const { dir, file } = placePlugin('shared/lifecycle.so');
  fs.chmodSync(path.dirname(file), 0o777);
  assertRefused(check(dir, 'lifecycle', `plugin_path: ${path.dirname(file)}`), file, /writable by group and others/);
});

test('a private folder under /tmp (sticky, root\'s) loads', () => {
  const { dir, file } = placePlugin('lifecycle.so');
  const r = check(dir, file);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.warnings.filter((l) => /unsafe permissions/.test(l)), []);
});

test('a sticky root-owned world-writable folder above the file\'s own folder is accepted', { skip: !isRoot && 'needs root to own the sticky folder' }, () => {
  const { dir, file } = placePlugin('sticky/mine/lifecycle.so');
  fs.chmodSync(path.join(dir, 'sticky'), 0o1777);
  const r = check(dir, file);
  assert.equal(r.status, 0, r.stderr);
  // and not sticky, the same folder is refused
  fs.chmodSync(path.join(dir, 'sticky'), 0o777);
  assertRefused(check(dir, file), file, /sticky is writable by group and others \(mode 0777\)/);
});

test('a plugin file owned by another user is refused', { skip: !isRoot && 'needs root to chown' }, () => {
  const { dir, file } = placePlugin('lifecycle.so');
  fs.chownSync(file, 65534, 65534);
  assertRefused(check(dir, file), file, /the file .* is owned by uid 65534, neither the host's user \(uid 0\) nor root/);
});

test('plugin_permissions: warn loads a group-writable plugin with one warning line', () => {
  const { dir, file } = placePlugin('lifecycle.so');
  fs.chmodSync(file, 0o775);
  const r = check(dir, file, 'plugin_permissions: warn');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.errors, []);
  const w = r.warnings.filter((l) => /unsafe permissions/.test(l));
  assert.equal(w.length, 1, r.stderr);
  for (const part of [r.where, "plugin 'perm'", `(${file})`, 'is writable by group (mode 0775)', 'loading it anyway (plugin_permissions: warn)']) {
    assert.ok(w[0].includes(part), `no ${part} in: ${w[0]}`);
  }
  assert.match(r.stderr, /loaded plugin 'perm'/);
});
