// lib.js - tools for the telnet tests: a host with the telnet plugin on port
// 0 (its port read from the log line), and a raw telnet client that answers
// option requests the way a test wants and keeps what it saw.
'use strict';
const net = require('net');
const tls = require('tls');
const zlib = require('zlib');
const { startHost, configWith } = require('../lib/harness');

const IAC = 255, DONT = 254, DO = 253, WONT = 252, WILL = 251, SB = 250, SE = 240;

// Start tale-host with ws + telnet (MUD mode unless told; `story`: a story
// folder instead of the bundled one); resolves with the host and its telnet port.
async function startTelnetHost({ mode = 'mud', telnet = {}, limits = {}, plugins = ['ws', 'telnet'], extra = '', story = null } = {}) {
  let config = configWith(plugins, {
    mode,
    extra,
    limits: { input_rate: 0, new_sessions_per_minute: 100000, max_sessions_per_address: 100000,
      max_connections_per_address: 0, ...limits },
    pluginConfig: { telnet: { listen: '127.0.0.1:0', ...telnet } },
  });
  if (story) config = config.replace(/^story: .*$/m, `story: ${story}`);
  const host = await startHost({ config });
  const t0 = Date.now();
  for (;;) {
    const m = /plugin 'telnet' listening on 127\.0\.0\.1:(\d+)/.exec(host.stderr());
    if (m) { host.telnetPort = Number(m[1]); return host; }
    if (Date.now() - t0 > 5000) throw new Error(`no telnet listener in the log:\n${host.stderr()}`);
    await sleep(20);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A telnet client on a raw socket.  accept: options we agree to (numbers);
// everything else is refused.  text: what a terminal would show (negotiation
// removed, MCCP2 inflated); events: every command and subnegotiation seen.
function telnetClient(port, { accept = [], naws = null, ttype = null, raw = false, secure = false } = {}) {
  return new Promise((resolve, reject) => {
    const s = secure ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : net.connect(port, '127.0.0.1');
    const c = { s, text: '', bytes: 0, cmds: [], sbs: [], closed: false, compressed: false };
    let inflate = null;
    let state = 0, cmd = 0, sbOpt = 0, sb = [];
    const send = (b) => { if (!s.destroyed) s.write(Buffer.from(b)); };
    c.send = (str) => send(Buffer.from(str));
    c.line = (str) => send(Buffer.from(str + '\r\n'));
    c.sendRaw = send;
    const onByte = (b) => {
      switch (state) {
      case 0: if (b === IAC) state = 1; else c.text += String.fromCharCode(b); break;
      case 1:
        if (b === IAC) { c.text += '\xff'; state = 0; } else if (b >= WILL && b <= DONT) { cmd = b; state = 2; } else if (b === SB) state = 3; else { c.cmds.push([b]); state = 0; }
        break;
      case 2: {
        c.cmds.push([cmd, b]);
        state = 0;
        if (raw) break;
        const ok = accept.includes(b);
        if (cmd === WILL) send([IAC, ok ? DO : DONT, b]);
        if (cmd === DO) {
          send([IAC, ok ? WILL : WONT, b]);
          if (ok && b === 31 && naws) send([IAC, SB, 31, naws[0] >> 8, naws[0] & 255, naws[1] >> 8, naws[1] & 255, IAC, SE]);
        }
        break;
      }
      case 3: sbOpt = b; sb = []; state = 4; break;
      case 4: if (b === IAC) state = 5; else sb.push(b); break;
      case 5:
        if (b === SE) {
          state = 0;
          c.sbs.push([sbOpt, Buffer.from(sb)]);
          if (sbOpt === 24 && sb[0] === 1 && ttype) {
            const name = ttype[Math.min(c.sbs.filter((x) => x[0] === 24).length - 1, ttype.length - 1)];
            send([IAC, SB, 24, 0, ...Buffer.from(name), IAC, SE]);
          }
          if (sbOpt === 86) return 'mccp';
        } else { sb.push(b); state = 4; }
        break;
      }
      return null;
    };
    const feed = (buf) => {
      for (let i = 0; i < buf.length; i++) {
        if (onByte(buf[i]) === 'mccp') {
          c.compressed = true;
          inflate = zlib.createInflate();
          inflate.on('data', (d) => { for (const b of d) onByte(b); });
          inflate.on('error', (e) => { c.inflateError = e; });
          inflate.write(buf.subarray(i + 1));
          return;
        }
      }
    };
    s.on('data', (d) => { c.bytes += d.length; if (inflate) inflate.write(d); else feed(d); });
    s.on('close', () => { c.closed = true; });
    s.on('error', (e) => { c.error = e; });
    c.waitFor = async (re, ms = 5000) => {
      const t0 = Date.now();
      while (!re.test(c.text)) {
        if (Date.now() - t0 > ms) throw new Error(`telnet: no ${re} in ${ms} ms; got:\n${c.text.slice(-2000)}`);
        if (c.closed && !re.test(c.text)) { await sleep(50); if (!re.test(c.text)) throw new Error(`telnet closed before ${re}; got:\n${c.text.slice(-2000)}`); }
        await sleep(10);
      }
    };
    c.waitClosed = async (ms = 5000) => {
      const t0 = Date.now();
      while (!c.closed) {
        if (Date.now() - t0 > ms) throw new Error(`telnet: still open after ${ms} ms`);
        await sleep(10);
      }
    };
    c.close = () => s.destroy();
    s.once(secure ? 'secureConnect' : 'connect', () => resolve(c));
    s.once('error', reject);
  });
}

module.exports = { startTelnetHost, telnetClient, sleep, IAC, DONT, DO, WONT, WILL, SB, SE };
