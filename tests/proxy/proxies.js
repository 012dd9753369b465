// proxies.js - run the shipped reverse-proxy configs (conf/proxy) on
// loopback in front of a test's tale-host.  Only ports and paths are
// changed; every other line is as shipped.
//
//   const p = await startProxy('nginx', { hostPort, certDir });
//   p.base ('https://127.0.0.1:PORT'), p.port, p.log(), await p.restart(), await p.stop()
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { SRC } = require('../lib/harness');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const accepts = (port) => new Promise((resolve) => {
  const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
  s.on('error', () => resolve(false));
});

// Replace `from` (which must occur) in the shipped text: a config change in
// conf/proxy that drops a line the tests rely on fails loudly here.
function subst(text, from, to, file) {
  if (!text.includes(from)) throw new Error(`${file} no longer has '${from}'`);
  return text.split(from).join(to);
}

function need(tool) {
  const r = spawnSync(tool, ['-v'], { encoding: 'utf8' });
  if (r.error) throw new Error(`${tool} is needed for this test (scripts/install-deps.sh): ${r.error.message}`);
}

// nginx: the shipped file is an http-context include; the test's main
// config only places pid, logs and temp files in the temp dir.
function nginxFiles(dir, { hostPort, httpsPort, httpPort, certDir }) {
  const shipped = path.join(SRC, 'conf/proxy/nginx.conf');
  let t = fs.readFileSync(shipped, 'utf8');
  t = subst(t, 'server 127.0.0.1:8180;', `server 127.0.0.1:${hostPort};`, shipped);
  t = subst(t, 'listen 443 ssl http2;', `listen 127.0.0.1:${httpsPort} ssl http2;`, shipped);
  t = subst(t, 'listen 80;', `listen 127.0.0.1:${httpPort};`, shipped);
  t = subst(t, '/etc/ssl/tale/fullchain.pem', path.join(certDir, 'cert.pem'), shipped);
  t = subst(t, '/etc/ssl/tale/privkey.pem', path.join(certDir, 'key.pem'), shipped);
  fs.writeFileSync(path.join(dir, 'tale.conf'), t);
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.writeFileSync(path.join(dir, 'nginx.conf'), [
    'worker_processes 1;',
    `error_log ${dir}/error.log info;`,
    `pid ${dir}/nginx.pid;`,
    'events { worker_connections 256; }',
    'http {',
    `  access_log ${dir}/access.log;`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${dir}/${k === 'client_body' ? 'body' : k};`),
    `  include ${dir}/tale.conf;`,
    '}',
  ].join('\n') + '\n');
  return {
    cmd: 'nginx',
    args: ['-c', path.join(dir, 'nginx.conf'), '-p', dir, '-e', path.join(dir, 'error.log'), '-g', 'daemon off;'],
    logs: [path.join(dir, 'error.log'), path.join(dir, 'access.log')],
  };
}

// HAProxy: a whole config; its crt is one PEM with chain and key.
function haproxyFiles(dir, { hostPort, httpsPort, httpPort, certDir }) {
  const shipped = path.join(SRC, 'conf/proxy/haproxy.cfg');
  const pem = path.join(dir, 'tale.pem');
  fs.writeFileSync(pem, fs.readFileSync(path.join(certDir, 'cert.pem')) + fs.readFileSync(path.join(certDir, 'key.pem')));
  let t = fs.readFileSync(shipped, 'utf8');
  t = subst(t, 'server tale 127.0.0.1:8180', `server tale 127.0.0.1:${hostPort}`, shipped);
  t = subst(t, 'bind :443 ssl crt /etc/haproxy/certs/tale.pem', `bind 127.0.0.1:${httpsPort} ssl crt ${pem}`, shipped);
  t = subst(t, 'bind :80\n', `bind 127.0.0.1:${httpPort}\n`, shipped);
  fs.writeFileSync(path.join(dir, 'haproxy.cfg'), t);
  return { cmd: 'haproxy', args: ['-f', path.join(dir, 'haproxy.cfg'), '-db'], logs: [] };
}

async function startProxy(kind, { hostPort, certDir }) {
  need(kind);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tale-${kind}-`));
  const httpsPort = await freePort();
  const httpPort = await freePort();
  const opts = { hostPort, httpsPort, httpPort, certDir };
  const { cmd, args, logs } = kind === 'nginx' ? nginxFiles(dir, opts) : haproxyFiles(dir, opts);
  let out = '';
  let proc = null;
  const launch = async () => {
    proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout.on('data', (d) => { out += d; });
    proc.stderr.on('data', (d) => { out += d; });
    const t0 = Date.now();
    while (!(await accepts(httpsPort))) {
      if (proc.exitCode !== null || Date.now() - t0 > 10000) {
        proc.kill('SIGKILL');
        throw new Error(`${kind} did not start:\n${out}${logs.map((f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '')).join('')}`);
      }
      await sleep(50);
    }
  };
  // SIGTERM: both stop at once, closing every client and upstream connection.
  const stop = () => new Promise((resolve) => {
    if (proc === null || proc.exitCode !== null || proc.signalCode !== null) { resolve(); return; }
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    proc.once('exit', () => { clearTimeout(timer); resolve(); });
    proc.kill('SIGTERM');
  });
  await launch();
  return {
    kind, dir, port: httpsPort, httpPort,
    base: `https://127.0.0.1:${httpsPort}`,
    log: () => out + logs.map((f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '')).join(''),
    stop,
    restart: async () => { await stop(); await launch(); },
  };
}

module.exports = { startProxy, freePort };
