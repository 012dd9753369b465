// The docs check for docs/DEPLOY.md: each command in its `sh` blocks is
// matched against the table below, which says how it is checked:
//   run     - run here as written, with /usr/local, /etc, /var/lib, /root and
//             build/ moved into a temp dir (after the steps before it, in
//             document order, so each sees what the earlier ones made)
//   test    - run by that test (the file must exist and contain `marker`)
//   ci      - run by scripts/test.sh (which must contain `marker`)
//   systemd - needs a live systemd (PID 1); `covered` names the test that
//             checks what the command does (the signal, the unit)
// A command missing from the table fails the check: the guide cannot gain
// an unchecked command.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync, spawnSync } = require('child_process');
const { SRC, makeCert } = require('../lib/harness');

const BUILD = process.env.TALE_BUILD_DIR || path.join(SRC, 'build');
const CMAKE = process.env.CMAKE_COMMAND || 'cmake';
const DOC = path.join(SRC, 'docs/DEPLOY.md');

const TABLE = [
  { re: /^scripts\/install-deps\.sh$/, how: 'ci', marker: 'scripts/install-deps.sh' },
  { re: /^cmake -S \. -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo$/, how: 'ci', marker: 'cmake -S . -B build' },
  { re: /^cmake --build build -j2$/, how: 'ci', marker: 'cmake --build build' },
  { re: /^cmake --install build --prefix \/usr\/local$/, how: 'run' },
  { re: /^install -d \/etc\/tale$/, how: 'run' },
  { re: /^sed -e .* \/usr\/local\/share\/tale-host\/conf\/tale\.yaml > \/etc\/tale\/tale\.yaml$/, how: 'run' },
  { re: /^(build\/)?tale-host --check-config \/etc\/tale\/tale\.yaml$/, how: 'run' },
  { re: /^systemctl daemon-reload$/, how: 'systemd', covered: 'tests/systemd/install.test.js' },
  { re: /^systemctl enable --now tale-host$/, how: 'systemd', covered: 'tests/systemd/notify.test.js' },
  { re: /^systemctl (status|stop|start|restart) tale-host$/, how: 'systemd', covered: 'tests/host/shutdown.test.js' },
  { re: /^systemd-analyze security tale-host$/, how: 'test', file: 'tests/systemd/unit.test.js', marker: "'security', '--offline=true'" },
  { re: /^install -m 0644 conf\/proxy\/nginx\.conf \/etc\/nginx\/conf\.d\/tale\.conf$/, how: 'run' },
  { re: /^nginx -t$/, how: 'run' },
  { re: /^systemctl reload (nginx|haproxy)$/, how: 'systemd', covered: 'tests/proxy/proxy.test.js' },
  { re: /^cat fullchain\.pem privkey\.pem > \/etc\/haproxy\/certs\/tale\.pem$/, how: 'run' },
  { re: /^haproxy -c -f \/etc\/haproxy\/haproxy\.cfg$/, how: 'run' },
  { re: /^openssl req -x509 /, how: 'run' },
  { re: /^journalctl -u tale-host --since today$/, how: 'systemd', covered: 'tests/reload/reload.test.js' },
  { re: /^tar -C \/var\/lib\/private -czf \/root\/tale-saves\.tar\.gz tale$/, how: 'run' },
  { re: /^tar -C \/var\/lib\/private -xzf \/root\/tale-saves\.tar\.gz$/, how: 'run' },
  { re: /^curl -s http:\/\/127\.0\.0\.1:8180\/metrics \| promtool check metrics$/, how: 'test', file: 'tests/metrics/metrics.test.js', marker: "['check', 'metrics']" },
  { re: /^promtool check (config|rules) conf\/prometheus\/[a-z-]+\.yml$/, how: 'run' },
  { re: /^install -m 0644 \/usr\/local\/share\/tale-host\/conf\/logrotate\/tale-host \/etc\/logrotate\.d\/tale-host$/, how: 'run' },
  { re: /^logrotate -d \/etc\/logrotate\.d\/tale-host$/, how: 'run' },
  { re: /^mv \/var\/log\/tale-host\/access\.log \/var\/log\/tale-host\/access\.log\.1$/, how: 'test', file: 'tests/metrics/metrics.test.js', marker: 'renameSync' },
  { re: /^kill -USR1 "\$\(pidof tale-host\)"$/, how: 'test', file: 'tests/metrics/metrics.test.js', marker: "'SIGUSR1'" },
];

// The commands of every ```sh block, in order.
function commands(text) {
  const out = [];
  let inSh = false;
  for (const line of text.split('\n')) {
    if (/^```sh\s*$/.test(line)) inSh = true;
    else if (/^```/.test(line)) inSh = false;
    else if (inSh && line.trim() !== '') out.push(line.trim());
  }
  return out;
}

test('every command in DEPLOY.md is known to the docs check', () => {
  const cmds = commands(fs.readFileSync(DOC, 'utf8'));
  assert.ok(cmds.length >= 20, `${cmds.length} commands found`);
  for (const c of cmds) assert.ok(TABLE.some((t) => t.re.test(c)), `not checked by anything: ${c}`);
  for (const t of TABLE) assert.ok(cmds.some((c) => t.re.test(c)), `the table names a command the guide no longer has: ${t.re}`);
});

test('commands checked elsewhere: their tests exist and do what is claimed', () => {
  const ci = fs.readFileSync(path.join(SRC, 'scripts/test.sh'), 'utf8');
  for (const t of TABLE) {
    if (t.how === 'ci') assert.ok(ci.includes(t.marker), `scripts/test.sh does not run ${t.marker}`);
    if (t.how === 'test') assert.ok(fs.readFileSync(path.join(SRC, t.file), 'utf8').includes(t.marker), `${t.file}: ${t.marker}`);
    if (t.how === 'systemd') assert.ok(fs.existsSync(path.join(SRC, t.covered)), t.covered);
  }
});

test('the runnable commands run, in order, in a sandbox', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-docs-'));
  try {
    const cert = makeCert();
    // what the guide takes as given: a data_dir with a save in it, the
    // certificate files in the working directory, the proxies' folders
    fs.mkdirSync(path.join(root, 'var/lib/private/tale/games/ab'), { recursive: true });
    fs.writeFileSync(path.join(root, 'var/lib/private/tale/games/ab/save.json'), '{"turns":3}\n');
    fs.mkdirSync(path.join(root, 'root'));
    fs.mkdirSync(path.join(root, 'etc/nginx/conf.d'), { recursive: true });
    fs.mkdirSync(path.join(root, 'etc/haproxy/certs'), { recursive: true });
    fs.mkdirSync(path.join(root, 'etc/logrotate.d'), { recursive: true });
    const work = path.join(root, 'work');
    fs.mkdirSync(work);
    fs.copyFileSync(path.join(cert, 'cert.pem'), path.join(work, 'fullchain.pem'));
    fs.copyFileSync(path.join(cert, 'key.pem'), path.join(work, 'privkey.pem'));
    // conf/proxy/... and build/ as seen from the source tree
    fs.symlinkSync(path.join(SRC, 'conf'), path.join(work, 'conf'));
    fs.symlinkSync(BUILD, path.join(work, 'build'));
    // the proxies' own main configs, as their packages ship them, here in the sandbox
    const ngxTemp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${root}/ngx-${k};`);
    fs.writeFileSync(path.join(root, 'etc/nginx/nginx.conf'), `pid ${root}/nginx.pid;\nevents {}\nhttp {\n${ngxTemp.join('\n')}\n  include ${root}/etc/nginx/conf.d/*.conf;\n}\n`);
    const moved = (c) => c
      .replace(/(^|[\s>'|=:])\/usr\/local\//g, `$1${root}/usr/local/`)
      .replace(/--prefix \/usr\/local$/, `--prefix ${root}/usr/local`)
      .replace(/(^|[\s>'|=:])\/etc\//g, `$1${root}/etc/`)
      .replace(/(^|[\s>'|=:])\/var\/lib\//g, `$1${root}/var/lib/`)
      .replace(/(^|[\s>'|=:])\/root\//g, `$1${root}/root/`)
      .replace(/^tale-host /, `${root}/usr/local/bin/tale-host `)
      .replace(/^cmake /, `${CMAKE} `);
    const ran = [];
    for (const c of commands(fs.readFileSync(DOC, 'utf8'))) {
      const t = TABLE.find((x) => x.re.test(c));
      if (t.how !== 'run') continue;
      let cmd = moved(c);
      // the proxies' checks read their main config from the package's place
      if (c === 'nginx -t') cmd = `nginx -t -c ${root}/etc/nginx/nginx.conf -p ${root} -e ${root}/nginx-error.log`;
      if (c.startsWith('haproxy -c')) {
        // as the guide says: the shipped config (its crt path moved into the sandbox)
        const shipped = fs.readFileSync(path.join(SRC, 'conf/proxy/haproxy.cfg'), 'utf8');
        fs.writeFileSync(path.join(root, 'etc/haproxy/haproxy.cfg'), shipped.split('/etc/haproxy/').join(`${root}/etc/haproxy/`));
      }
      if (c === 'nginx -t') {
        const conf = path.join(root, 'etc/nginx/conf.d/tale.conf');
        fs.writeFileSync(conf, fs.readFileSync(conf, 'utf8').split('/etc/ssl/tale/fullchain.pem').join(`${work}/fullchain.pem`)
          .split('/etc/ssl/tale/privkey.pem').join(`${work}/privkey.pem`));
      }
      const r = spawnSync('/bin/sh', ['-c', cmd], { cwd: work, encoding: 'utf8', timeout: 120000 });
      if (r.error) throw r.error;
      assert.strictEqual(r.status, 0, `${c}\n  ran as: ${cmd}\n${r.stdout}${r.stderr}`);
      ran.push(c);
    }
    // what the steps made
    assert.match(fs.readFileSync(path.join(root, 'etc/tale/tale.yaml'), 'utf8'), new RegExp(`^data_dir: ${root}/var/lib/tale`, 'm'));
    assert.ok(fs.existsSync(path.join(root, 'usr/local/lib/systemd/system/tale-host.service')));
    assert.ok(fs.existsSync(path.join(work, 'cert.pem')) && fs.existsSync(path.join(work, 'key.pem')));
    assert.match(fs.readFileSync(path.join(root, 'etc/logrotate.d/tale-host'), 'utf8'), /access\.log/);
    const list = execFileSync('tar', ['-tzf', path.join(root, 'root/tale-saves.tar.gz')], { encoding: 'utf8' });
    assert.match(list, /^tale\/games\/ab\/save\.json$/m);
    assert.ok(ran.length >= 10, `${ran.length} commands ran`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
