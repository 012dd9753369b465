// A MUD crowd against the real host over WebSocket: 200 players join the
// start room, one yells and every other player gets it, each player's seqs
// running 1, 2, 3... with no gap; a player whose connection drops comes back
// within limits.linger and resumes where it was, and one who stays away
// fades away for the room.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { startHost, configWith } = require('../lib/harness');
const { connect, sleep, stopClean } = require('../ws/client');

const PLAYERS = 200;
const seqs = (msgs) => msgs.filter((m) => Number.isInteger(m.seq)).map((m) => m.seq);
const gapFree = (list) => list.every((s, i) => s === i + 1);
const saysIt = (what) => (m) => typeof m.text === 'string' && m.text.includes(what);

test('200 players: one yell reaches all, seqs without gaps; a reconnect within linger resumes; a no-show fades away', async () => {
  const host = await startHost({
    config: configWith(['ws'], {
      mode: 'mud',
      tick: '100ms',
      limits: {
        input_rate: 0,
        max_sessions: PLAYERS + 16,
        max_connections: PLAYERS + 64,
        max_sessions_per_address: 0,
        new_sessions_per_minute: 0,
        max_connections_per_address: 0,
        linger: '2s',
      },
    }),
  });
  const players = [];
  try {
    for (let i = 0; i < PLAYERS; i += 50) {
      const batch = [];
      for (let j = i; j < Math.min(PLAYERS, i + 50); j++) batch.push(connect(host));
      players.push(...(await Promise.all(batch)));
    }
    await Promise.all(players.map((p) => p.waitFor((m) => m.type === 'text', { ms: 20000 })));

    const [yeller] = players;
    yeller.send({ cmd: 'yell hello crowd' });
    await Promise.all(players.slice(1).map((p) => p.waitFor(saysIt('hello crowd'), { ms: 20000 })));
    for (const p of players) assert.ok(gapFree(seqs(p.msgs)), `seqs 1, 2, 3...: ${seqs(p.msgs).slice(0, 40)}`);

    // a dropped connection: back within linger with the cookie and the last seq seen
    const away = players[5];
    await away.quiet(200);
    const last = Math.max(...seqs(away.msgs));
    away.ws.terminate();
    await away.closed;
    await sleep(200);
    // another voice: the yeller's own cooldown (one yell per 5 s) would refuse a second yell
    players[1].send({ cmd: 'yell while you were out' });
    await players[6].waitFor(saysIt('while you were out'), { ms: 20000 });
    const back = await connect(host, { cookie: away.cookie, resume: last });
    await back.waitFor(saysIt('while you were out'), { ms: 20000 });
    const resumed = seqs(back.msgs);
    assert.strictEqual(resumed[0], last + 1, 'nothing lost, nothing repeated');
    assert.ok(gapFree(seqs(away.msgs).concat(resumed)), 'one gap-free sequence across the reconnect');
    const left = (m) => typeof m.text === 'string' && /fades away|leaves\./.test(m.text);
    assert.ok(!players[6].msgs.some(left), 'nobody faded: the player came back in time');
    players[5] = back;

    // a connection that does not come back: after linger the room is told
    // (a crowded room hears it in the tick's summary: "... leaves.")
    const gone = players[7];
    gone.ws.terminate();
    await gone.closed;
    await players[8].waitFor(left, { ms: 10000 });
    const again = await connect(host, { cookie: gone.cookie, resume: 0 });
    assert.ok(again.setCookie, 'the old cookie names no seat: a new one is made');
    again.ws.close();
    await again.closed;
    for (const p of players) p.ws.terminate();
    await stopClean(assert, host);
  } finally {
    for (const p of players) p.ws.terminate();
    await host.stop();
  }
});
