// sighup.js - what the reload tests share: write a new config where the
// running host reads it, send SIGHUP, and wait for the reload to finish.
'use strict';
const fs = require('fs');
const { SRC } = require('../lib/harness');
const { sleep } = require('../ws/client');

// Write the config as the harness does (${SRC}, ${TMP} substituted).
function write(host, text) {
  fs.writeFileSync(host.configFile, text.replace(/\$\{SRC\}/g, SRC).replace(/\$\{TMP\}/g, host.dir));
}

// Write `text`, send SIGHUP, and return what the host logged up to the end
// of the reload (done or refused).
async function reload(host, text) {
  write(host, text);
  const before = host.stderr().length;
  host.proc.kill('SIGHUP');
  const t0 = Date.now();
  while (!/reload done|reload refused/.test(host.stderr().slice(before))) {
    if (Date.now() - t0 > 5000) throw new Error(`no reload line in 5 s:\n${host.stderr().slice(before)}`);
    await sleep(20);
  }
  return host.stderr().slice(before);
}

// The player can still play: a look answered from the lighthouse story's start.
async function plays(p) {
  const from = p.msgs.length;
  p.send({ cmd: 'look' });
  await p.waitFor((m) => m.type === 'text' && /Jetty/.test(m.location || ''), { from });
}

module.exports = { write, reload, plays };
