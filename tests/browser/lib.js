// lib.js - what the browser tests share: a headless Chromium with a fresh
// profile, a TCP proxy that can drop every connection like a dying server,
// and helpers that drive the game page the way a player does.
'use strict';
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');
const { SRC } = require('../lib/harness');

const CHROMIUM = process.env.TALE_CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.TALE_SCREENSHOT_DIR || path.join(SRC, 'build', 'browser-screenshots');

// A fresh user-data-dir per browser, removed on close.
async function launch() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1100, height: 800 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// A page that records CSP violations, page errors and console errors: a
// test fails if the client ever trips its own Content-Security-Policy.
async function openPage(browser, url) {
  const page = await browser.context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  return { page, problems };
}

function walkthrough() {
  const file = path.join(SRC, 'conf', 'stories', 'lighthouse', 'WALKTHROUGH.txt');
  return fs.readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

// The first line of the story's ending (goal.ending in story.yaml), style tags removed.
function storyEnding() {
  const yaml = fs.readFileSync(path.join(SRC, 'conf', 'stories', 'lighthouse', 'story.yaml'), 'utf8');
  const m = /^goal:\n(?:[ ].*\n)*?[ ]+ending: [|>]-?\n[ ]+(.+)$/m.exec(yaml);
  if (!m) throw new Error('story.yaml has no goal.ending block');
  return m[1].replace(/<[^>]+>/g, '').trim();
}

async function waitConnected(page, transport, timeout = 10000) {
  await page.waitForFunction((t) => window.taleClient && window.taleClient.connection === 'connected' &&
    (!t || window.taleClient.transport === t), transport, { timeout });
}

// Type a command like a player and wait for the frame that echoes it.
async function play(page, cmd, timeout = 10000) {
  const before = await page.evaluate(() => window.taleClient.lastSeq);
  await page.fill('#input-cmd', cmd);
  await page.press('#input-cmd', 'Enter');
  await waitEcho(page, before, cmd, timeout);
}

// The frame (seq > before) whose echoed input is cmd.
async function waitEcho(page, before, cmd, timeout = 10000) {
  await page.waitForFunction(({ before, cmd }) => {
    for (const f of document.querySelectorAll('#textframe .frame')) {
      if (Number(f.dataset.seq) <= before) continue;
      for (const echo of f.querySelectorAll('.txt-userinput')) {
        if (echo.textContent.trim().endsWith(cmd)) return true;
      }
    }
    return false;
  }, { before, cmd }, { timeout });
}

async function screenshot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, name);
  // the text pane scrolls to its end smoothly: let it arrive
  await page.waitForFunction(() => {
    const t = document.getElementById('textframe');
    return !t || t.scrollHeight - t.clientHeight - t.scrollTop < 2;
  }, null, { timeout: 5000 }).catch(() => {});
  await page.screenshot({ path: file, fullPage: true });
  console.log(`screenshot: ${file}`);
  return file;
}

// Sequence numbers the page has shown: each exactly once, none missing.
async function assertSeqsExactlyOnce(assert, page) {
  const { seqs, domSeqs } = await page.evaluate(() => ({
    seqs: window.taleClient.seqs,
    domSeqs: Array.from(document.querySelectorAll('#textframe .frame')).map((f) => Number(f.dataset.seq)),
  }));
  assert.ok(seqs.length > 0, 'frames were shown');
  assert.strictEqual(seqs[0], 1, 'the first frame is seq 1');
  seqs.forEach((s, i) => assert.strictEqual(s, i + 1, `seq ${i + 1} shown once, in order (got ${s})`));
  assert.strictEqual(new Set(domSeqs).size, domSeqs.length, 'no frame is in the text pane twice');
  return seqs;
}

// A TCP proxy between the browser and the host.  hold() stops passing the
// host's bytes on the streaming connections (WebSocket, event stream): they
// are kept, never delivered.  dropAll() then destroys those connections at
// once: to the browser the server just went away, and whatever it sent
// meanwhile was lost in flight.  Plain requests (POST input) pass untouched:
// Chromium retries a POST whose reused connection dies before any answer,
// which would run the command twice (see the report on idempotent input).
function startProxy(targetPort) {
  const pairs = new Set();
  let holding = false;
  let target = targetPort;
  const server = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    const pair = { client, upstream, stream: false };
    pairs.add(pair);
    client.on('data', (d) => {
      if (/^GET [^ ]*\/(ws|eventsource)[? ]/.test(d.toString('latin1', 0, 200))) pair.stream = true;
      upstream.write(d);
    });
    upstream.on('data', (d) => { if (!(holding && pair.stream)) client.write(d); });
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: server.address().port,
        url: `http://127.0.0.1:${server.address().port}`,
        streams: () => [...pairs].filter((p) => p.stream).length,
        hold() { holding = true; },
        retarget(port) { target = port; }, // new connections go to another host (a restart)
        dropAll() {
          for (const p of [...pairs]) {
            if (!p.stream) continue;
            if (p.client.resetAndDestroy) p.client.resetAndDestroy();
            else p.client.destroy();
            p.upstream.destroy();
            pairs.delete(p);
          }
          holding = false;
        },
        close: () => new Promise((r) => {
          for (const p of pairs) { p.client.destroy(); p.upstream.destroy(); }
          server.close(() => r());
        }),
      });
    });
  });
}

module.exports = { launch, openPage, walkthrough, waitConnected, play, waitEcho, screenshot, assertSeqsExactlyOnce,
  startProxy, SHOTS };

// Play the bundled story's walkthrough to its ending, checking the side
// panel as it goes and asking for the map part-way.  Returns what it saw.
async function playWalkthrough(assert, page) {
  const cmds = walkthrough();
  assert.ok(cmds.length > 5, 'the walkthrough has commands');
  const seen = { locations: new Set(), npcs: new Set(), images: new Set(), exits: 0, map: false };
  const look = async () => {
    const panel = await page.evaluate(() => ({
      location: document.getElementById('player-location').textContent.trim(),
      image: document.getElementById('location-image').getAttribute('src') || '',
      npcs: Array.from(document.querySelectorAll('#npcs-in-location button')).map((b) => b.textContent),
      exits: document.querySelectorAll('#exits-in-location button').length,
    }));
    seen.locations.add(panel.location);
    panel.npcs.forEach((n) => seen.npcs.add(n));
    if (panel.image) seen.images.add(panel.image);
    seen.exits = Math.max(seen.exits, panel.exits);
  };
  await look();
  for (let i = 0; i < cmds.length; i++) {
    await play(page, cmds[i]);
    await look();
    if (i === 4) {
      await play(page, 'map');
      await page.waitForFunction(() => {
        const img = document.getElementById('map-image');
        return img.src.startsWith('data:image/') && img.complete && img.naturalWidth > 0 &&
          !document.getElementById('map-section').hidden;
      }, null, { timeout: 10000 });
      seen.map = true;
    }
  }
  const ending = storyEnding();
  await page.waitForFunction((e) => document.getElementById('textframe').textContent.includes(e), ending,
    { timeout: 10000 });
  return seen;
}

// The side panel right after connecting: a titled location whose picture loaded.
async function assertSidePanelReady(assert, page) {
  await page.waitForFunction(() => {
    const img = document.getElementById('location-image');
    return document.getElementById('player-location').textContent.trim() !== '…' && !img.hidden && img.complete &&
      img.naturalWidth > 0;
  }, null, { timeout: 10000 });
  const src = await page.getAttribute('#location-image', 'src');
  assert.match(src, /\/tale\/static\/resources\/[\w-]+\.svg$/);
  assert.ok(await page.locator('#exits-in-location button').count() > 0, 'exits are listed as buttons');
}

module.exports.playWalkthrough = playWalkthrough;
module.exports.assertSidePanelReady = assertSidePanelReady;
