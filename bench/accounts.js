#!/usr/bin/env node
// accounts.js - logins per second, and how the loop holds up while N
// players log in at once (issue #15), measured with npm `ws` (tests/node_modules).
//
//   node bench/accounts.js --port PORT [--players 100] [--json FILE]
//
// Against a host with `accounts: optional` (so the probe plays as a guest):
//  1. N accounts are created (not timed: each costs one Argon2id hash).
//  2. single: 5 logins one after another: the time from the password sent to
//     the character's first frame (one hash + SQLite + the round trip).
//  3. reference: a probe player types `look` every 10 ms for 3 s while the N
//     players sit connected and idle: the probe's round-trip times.
//  4. burst: the N players send their passwords at once; the probe keeps
//     typing.  Logins per second = N / (time to the last player's frame); the
//     probe's p99 round trip against the reference's is the loop's stall
//     (a hash on the loop would show as a round trip of ~a hash).
// Every wait is bounded; the process ends by itself.
"use strict";
const path = require("path");
const fs = require("fs");
const WebSocket = require(path.join(__dirname, "..", "tests", "node_modules", "ws"));

const opt = { port: 0, players: 100, json: null };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, ""),
    v = process.argv[i + 1];
  if (!(k in opt) || v === undefined) {
    console.error("usage: accounts.js --port PORT [--players N] [--json FILE]");
    process.exit(2);
  }
  opt[k] = k === "json" ? v : Number(v);
}
if (!(opt.port > 0) || !(opt.players > 0)) {
  console.error("accounts.js: --port and --players must be positive");
  process.exit(2);
}
const PW = "bench password 1";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const name = (i) => "Bench" + String.fromCharCode(97 + Math.floor(i / 26) % 26) + String.fromCharCode(97 + (i % 26));

function player() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${opt.port}/tale/ws`, { origin: `http://127.0.0.1:${opt.port}` });
    const p = { ws, msgs: [], waiters: [] };
    p.say = (line) => ws.send(JSON.stringify({ cmd: line }));
    p.next = (pred, ms = 30000) =>
      new Promise((res, rej) => {
        const w = { pred, res, timer: setTimeout(() => rej(new Error("timed out waiting for a frame")), ms) };
        p.waiters.push(w);
      });
    ws.on("message", (d) => {
      const m = JSON.parse(d.toString());
      m.at = process.hrtime.bigint();
      p.msgs.push(m);
      for (const w of p.waiters.splice(0)) {
        if (w.pred(m)) {
          clearTimeout(w.timer);
          w.res(m);
        } else p.waiters.push(w);
      }
    });
    ws.once("open", () => resolve(p));
    ws.once("error", reject);
  });
}
const says = (s) => (m) => typeof m.text === "string" && m.text.includes(s);
const joined = (m) => typeof m.location === "string" && m.location !== "" && !says("Password")(m) && !says("same password")(m);

async function dialogue(p, first, nm, pw, done) {
  let w = p.next(says(first === "create" ? "Choose a name" : "account name"));
  p.say(first);
  await w;
  w = p.next(says(first === "create" ? "Choose a password" : "Password"));
  p.say(nm);
  await w;
  if (first === "create") {
    w = p.next(says("same password"));
    p.say(pw);
    await w;
  }
  return done;
}

function stats(us) {
  const s = [...us].sort((a, b) => a - b);
  const q = (f) => s[Math.min(s.length - 1, Math.floor(f * s.length))];
  return { n: s.length, median_us: q(0.5), p90_us: q(0.9), p99_us: q(0.99), max_us: s[s.length - 1] };
}

// The probe: `look` every 10 ms (one at a time), round trips in us, until stop().
function probe(p) {
  const rtt = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = process.hrtime.bigint();
      const w = p.next((m) => m.type === "text" && m.text.includes("txt-userinput"), 10000);
      p.say("look");
      const m = await w;
      rtt.push(Number(m.at - t0) / 1000);
      await sleep(10);
    }
  })();
  return { rtt, stop: async () => { running = false; await loop; } };
}

(async () => {
  const t0 = Date.now();
  // 1. accounts
  const ps = [];
  for (let i = 0; i < opt.players; i++) ps.push(await player());
  await Promise.all(
    ps.map(async (p, i) => {
      await dialogue(p, "create", name(i), PW);
      const w = p.next(says("Your account is made"), 120000);
      p.say(PW);
      await w;
      p.say("quit");
    })
  );
  for (const p of ps) p.ws.terminate();
  console.error(`accounts.js: ${opt.players} accounts created in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  // 2. single logins
  const single = [];
  for (let i = 0; i < 5; i++) {
    const p = await player();
    await dialogue(p, "login", name(i), PW);
    const t = process.hrtime.bigint();
    const w = p.next(joined);
    p.say(PW);
    const m = await w;
    single.push(Number(m.at - t) / 1000);
    p.ws.terminate();
  }

  // 3. reference: everyone connected and at the password question, idle
  const crowd = [];
  for (let i = 0; i < opt.players; i++) crowd.push(await player());
  await Promise.all(crowd.map((p, i) => dialogue(p, "login", name(i), PW)));
  const pr = await player();
  await sleep(200);
  let run = probe(pr);
  await sleep(3000);
  await run.stop();
  const ref = stats(run.rtt);

  // 4. the burst
  run = probe(pr);
  await sleep(100);
  const b0 = process.hrtime.bigint();
  const done = crowd.map((p) => p.next(joined, 120000));
  for (const p of crowd) p.say(PW);
  const frames = await Promise.all(done);
  const b1 = frames.reduce((a, m) => (m.at > a ? m.at : a), 0n);
  await sleep(100);
  await run.stop();
  const burst = stats(run.rtt);
  for (const p of crowd.concat([pr])) p.ws.terminate();

  const secs = Number(b1 - b0) / 1e9;
  const out = {
    players: opt.players,
    argon2id: { opslimit: 2, memlimit_bytes: 64 * 1024 * 1024 },
    single_login: stats(single),
    burst_seconds: secs,
    logins_per_second: opt.players / secs,
    worker_ms_per_login: (secs * 1000) / opt.players,
    probe_reference: ref,
    probe_during_burst: burst,
    p99_ratio: burst.p99_us / ref.p99_us,
  };
  const f = (us) => (us / 1000).toFixed(2);
  console.log(`accounts  Argon2id opslimit 2, memlimit 64 MiB (libsodium INTERACTIVE), on the accounts worker`);
  console.log(`accounts  single login (password sent -> first frame): median ${f(out.single_login.median_us)} ms, max ${f(out.single_login.max_us)} ms`);
  console.log(`accounts  ${opt.players} logins at once: the last in ${secs.toFixed(2)} s = ${out.logins_per_second.toFixed(1)} logins/s (${out.worker_ms_per_login.toFixed(1)} ms each on the worker)`);
  console.log(`accounts  probe 'look' round trip: idle reference median ${f(ref.median_us)} ms p99 ${f(ref.p99_us)} ms (n ${ref.n}); during the burst median ${f(burst.median_us)} ms p99 ${f(burst.p99_us)} ms max ${f(burst.max_us)} ms (n ${burst.n}); p99 ratio ${out.p99_ratio.toFixed(2)}`);
  if (opt.json) fs.writeFileSync(opt.json, JSON.stringify(out, null, 2) + "\n");
  process.exit(0);
})().catch((e) => {
  console.error("accounts.js: FAIL: " + e.message);
  process.exit(1);
});
