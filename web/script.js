// script.js - the Tale Host browser client (no build step, no framework).
//
// Speaks the LlamaTale web protocol (see PROTOCOL.md): WebSocket to "ws"
// first; if that never opens, EventSource on "eventsource" plus POST "input".
// URLs are relative to the page (/tale/story), so the client also works
// behind a proxy that mounts the game under another prefix.
//
// Every frame carries "seq".  The client remembers the last seq it showed and
// drops anything at or below it, so a resumed stream (WS ?resume=<seq>, SSE
// Last-Event-ID) or a replayed backlog never shows a line twice.
//
// Trust: the "text" field is HTML produced by the server, which escapes
// everything that came from players or story files; it still passes through
// an allow-list sanitiser here.  Every other value (names, exits, errors,
// completions) is inserted with textContent only.
'use strict';

(function () {
  const WS_OPEN_TIMEOUT_MS = 5000;    // a WS that has not opened by then counts as blocked
  const BACKOFF_START_MS = 500;
  const BACKOFF_MAX_MS = 8000;
  const WS_RETRIES_BEFORE_SSE = 4;    // after an established WS, failed re-opens before trying SSE
  const HISTORY_MAX = 100;
  const CLOSE_TAKEN_OVER = 4001;
  const CLOSE_SESSION_ENDED = 4002;

  const state = {
    transport: 'none',          // 'websocket' | 'eventsource' | 'none'
    connection: 'connecting',   // 'connecting' | 'connected' | 'disconnected' | 'ended'
    lastSeq: 0,
    seqs: [],                   // every seq shown, in order (tests check it for gaps and doubles)
    reconnects: 0,
    restarts: 0,                // times the server's numbering started over (a new host run)
    expectAbove: null,          // after a resume: the seq the next frame must exceed
    ws: null,
    es: null,
    wsEverOpened: false,
    wsFailures: 0,
    backoff: BACKOFF_START_MS,
    retryTimer: null,
    history: [],
    historyPos: 0,
    draft: '',
    secretNext: false,
    pendingCompletion: null,    // the prefix of a WS autocomplete request awaiting its frame
    leaving: false,
    npcImageCache: new Map(),   // npc name -> resolved image URL or '' when none exists
  };

  let el = {};

  // ---------------------------------------------------------------- setup

  function setup() {
    el = {
      text: document.getElementById('textframe'),
      form: document.getElementById('cmd-form'),
      input: document.getElementById('input-cmd'),
      submit: document.getElementById('button-submit'),
      complete: document.getElementById('button-autocomplete'),
      quit: document.getElementById('button-quit'),
      status: document.getElementById('status'),
      location: document.getElementById('player-location'),
      locationImage: document.getElementById('location-image'),
      turns: document.getElementById('player-turns'),
      npcs: document.getElementById('npcs-in-location'),
      items: document.getElementById('items-in-location'),
      exits: document.getElementById('exits-in-location'),
      completions: document.getElementById('completions'),
    };
    if (!el.text || !el.input) return; // not the story page

    el.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      submitCommand();
    });
    el.input.addEventListener('keydown', onKeyDown);
    if (el.complete) el.complete.addEventListener('click', () => autocomplete());
    if (el.quit) el.quit.addEventListener('click', quitClicked);
    if (el.locationImage) {
      el.locationImage.addEventListener('error', () => { el.locationImage.hidden = true; });
      el.locationImage.addEventListener('load', () => { el.locationImage.hidden = false; });
    }
    for (let i = 0; i < 4; i++) {
      const img = document.getElementById('npc-image' + i);
      if (img) img.addEventListener('error', () => { img.hidden = true; });
    }
    window.addEventListener('pagehide', () => { state.leaving = true; });

    const forced = new URLSearchParams(window.location.search).get('transport');
    if (forced === 'eventsource' || typeof WebSocket === 'undefined') connectEventSource();
    else connectWebSocket();
  }

  // ---------------------------------------------------------------- status

  function setConnection(connection, message) {
    state.connection = connection;
    document.body.dataset.connection = connection;
    document.body.dataset.transport = state.transport;
    const names = { websocket: 'WebSocket', eventsource: 'EventSource (SSE)', none: '' };
    let text = message;
    if (!text) {
      if (connection === 'connected') text = 'Connected via ' + names[state.transport];
      else if (connection === 'connecting') text = 'Connecting…';
      else if (connection === 'disconnected') text = 'Disconnected — reconnecting…';
      else text = 'The game has ended.';
    }
    el.status.textContent = text;
    el.status.className = 'status status-' + connection;
    const usable = connection === 'connected';
    const hadFocus = document.activeElement === el.input;
    el.input.disabled = !usable;
    if (el.submit) el.submit.disabled = !usable;
    if (el.complete) el.complete.disabled = !usable;
    if (usable && (hadFocus || document.activeElement === document.body || document.activeElement === null)) {
      el.input.focus();
    }
  }

  function scheduleReconnect(fn) {
    if (state.leaving || state.connection === 'ended') return;
    clearTimeout(state.retryTimer);
    const delay = state.backoff;
    state.backoff = Math.min(state.backoff * 2, BACKOFF_MAX_MS);
    setConnection('disconnected', 'Disconnected — reconnecting in ' + Math.ceil(delay / 1000) + ' s…');
    state.retryTimer = setTimeout(() => {
      state.reconnects++;
      fn();
    }, delay);
  }

  function connected(transport) {
    state.transport = transport;
    state.backoff = BACKOFF_START_MS;
    setConnection('connected');
  }

  // ---------------------------------------------------------------- WebSocket

  function connectWebSocket() {
    const url = new URL('ws', window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    if (state.lastSeq > 0) url.searchParams.set('resume', String(state.lastSeq));
    let opened = false;
    let ws;
    try {
      ws = new WebSocket(url.href);
    } catch (e) {
      fallbackToEventSource();
      return;
    }
    state.ws = ws;
    if (state.connection !== 'disconnected') setConnection('connecting');
    const openTimer = setTimeout(() => {
      if (!opened) ws.close();
    }, WS_OPEN_TIMEOUT_MS);

    const resumeFrom = state.lastSeq;
    ws.addEventListener('open', () => {
      opened = true;
      clearTimeout(openTimer);
      state.expectAbove = resumeFrom > 0 ? resumeFrom : null;
      state.wsEverOpened = true;
      state.wsFailures = 0;
      connected('websocket');
    });
    ws.addEventListener('message', (ev) => {
      if (typeof ev.data !== 'string') return;
      let json;
      try {
        json = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (json && json.type === 'connected') return;
      handleFrame(json);
    });
    ws.addEventListener('close', (ev) => {
      clearTimeout(openTimer);
      if (state.ws !== ws) return;
      state.ws = null;
      if (ev.code === CLOSE_TAKEN_OVER) {
        setConnection('ended', 'This game was taken over by another window. Reload to take it back.');
        return;
      }
      if (ev.code === CLOSE_SESSION_ENDED) {
        setConnection('ended', ev.reason ? 'The game has ended: ' + ev.reason : 'The game has ended.');
        return;
      }
      if (!state.wsEverOpened) {
        // never opened: no ws plugin, or a proxy that blocks upgrades
        fallbackToEventSource();
        return;
      }
      if (!opened && ++state.wsFailures >= WS_RETRIES_BEFORE_SSE) {
        fallbackToEventSource();
        return;
      }
      scheduleReconnect(connectWebSocket);
    });
  }

  function fallbackToEventSource() {
    state.ws = null;
    connectEventSource();
  }

  // ---------------------------------------------------------------- EventSource

  function connectEventSource() {
    state.transport = 'eventsource';
    // A fresh EventSource cannot send Last-Event-ID; the server replays its
    // held backlog and the seq filter drops what was already shown.
    const es = new EventSource(new URL('eventsource', window.location.href).href);
    state.es = es;
    if (state.connection !== 'disconnected') setConnection('connecting');
    const onFrame = (ev) => {
      let json;
      try {
        json = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      handleFrame(json);
    };
    let esOpened = false;
    es.addEventListener('open', () => {
      // a native reconnect sent Last-Event-ID; a fresh EventSource did not and
      // gets the held backlog again, which the seq filter thins out
      state.expectAbove = esOpened && state.lastSeq > 0 ? state.lastSeq : null;
      esOpened = true;
      connected('eventsource');
    });
    es.addEventListener('text', onFrame);
    es.addEventListener('data', onFrame);
    es.addEventListener('message', onFrame); // frames sent without an event name
    // The server says why it ends a stream; without this the browser would
    // reconnect at once and snatch the seat back from the tab that took it.
    es.addEventListener('close', (ev) => {
      let info = {};
      try {
        info = JSON.parse(ev.data);
      } catch (e) {
        /* keep the defaults */
      }
      if (info.code === CLOSE_TAKEN_OVER || info.code === CLOSE_SESSION_ENDED) {
        es.close();
        state.es = null;
        setConnection('ended', info.code === CLOSE_TAKEN_OVER
          ? 'This game was taken over by another window. Reload to take it back.'
          : 'The game has ended' + (info.reason ? ': ' + info.reason : '.'));
      }
    });
    es.addEventListener('error', () => {
      if (state.es !== es) return;
      if (es.readyState === EventSource.CONNECTING) {
        // the browser reconnects by itself and sends Last-Event-ID
        setConnection('disconnected');
        return;
      }
      // CLOSED: the server refused (e.g. 4xx); start over after a pause
      es.close();
      state.es = null;
      scheduleReconnect(connectEventSource);
    });
  }

  // ---------------------------------------------------------------- frames

  function handleFrame(json) {
    if (!json || typeof json !== 'object') return;
    if (typeof json.seq === 'number') {
      if (state.expectAbove !== null) {
        // A resumed stream only carries frames after the one we named.  A
        // lower number means a new run of the server (a restart): its
        // numbering starts over, so start over with it instead of ignoring it.
        if (json.seq <= state.expectAbove) {
          state.lastSeq = 0;
          state.seqs = [];
          state.restarts++;
          appendNotice('The server was restarted; the game continues below.', 'server-notice');
        }
        state.expectAbove = null;
      }
      if (json.seq <= state.lastSeq) return; // already shown (resume overlap)
      state.lastSeq = json.seq;
      state.seqs.push(json.seq);
    }
    if (json.error) {
      appendNotice(String(json.error), 'server-error');
      return;
    }
    if (json.type === 'data') processData(json);
    else if (json.type === 'text' || typeof json.text === 'string') processText(json);
  }

  function processData(json) {
    if (typeof json.data !== 'string') return;
    const target = document.getElementById(json.id || json.target || 'default-image');
    if (!target || target.tagName !== 'IMG') return;
    // only images: never let a frame point an element at a script URL
    if (!/^data:image\/(svg\+xml|png|jpeg|gif|webp);/.test(json.data)) return;
    target.src = json.data;
    target.hidden = false;
    const section = target.closest('section');
    if (section) section.hidden = false;
  }

  function processText(json) {
    const special = Array.isArray(json.special) ? json.special : [];
    if (special.indexOf('clear') >= 0) el.text.replaceChildren();
    if (special.indexOf('noecho') >= 0) setSecret(true);
    if (typeof json.text === 'string' && json.text !== '') {
      const frame = document.createElement('div');
      frame.className = 'frame';
      if (typeof json.seq === 'number') frame.dataset.seq = String(json.seq);
      frame.appendChild(sanitizeHtml(json.text));
      el.text.appendChild(frame);
      scrollToEnd();
    }
    if (Array.isArray(json.completions) && state.pendingCompletion !== null) {
      const prefix = state.pendingCompletion;
      state.pendingCompletion = null;
      applyCompletions(prefix, json.completions.filter((c) => typeof c === 'string'));
    }
    if (typeof json.turns === 'number' && el.turns) el.turns.textContent = String(json.turns);
    if (typeof json.location === 'string') el.location.textContent = plainText(json.location) || '…';
    if ('location_image' in json) setLocationImage(json.location_image);
    if (typeof json.npcs === 'string') {
      const images = typeof json.npc_images === 'string' ? json.npc_images.split(',').map((s) => s.trim()) : null;
      fillNpcs(splitList(json.npcs), images);
      // a crowd: the panel names a few and counts the rest (PROTOCOL.md, "Crowds")
      const more = Number.isInteger(json.npcs_more) && json.npcs_more > 0 ? json.npcs_more : 0;
      if (more > 0 && el.npcs) {
        const li = document.createElement('li');
        li.className = 'more';
        li.textContent = 'and ' + more.toLocaleString('en-US') + (more === 1 ? ' other' : ' others');
        el.npcs.appendChild(li);
      }
    }
    if (typeof json.items === 'string') fillList(el.items, splitList(json.items), (name) => 'examine ' + name, 'Examine ');
    if (typeof json.exits === 'string') fillList(el.exits, splitList(json.exits), (dir) => 'go ' + dir, 'Go ');
  }

  function appendNotice(message, cls) {
    const p = document.createElement('p');
    p.className = cls;
    p.textContent = message;
    el.text.appendChild(p);
    scrollToEnd();
  }

  // Smooth for a screenful or two of new text; a longer way (a burst of
  // replayed frames after a reconnect) jumps, so the end is always reached.
  function scrollToEnd() {
    const reduce = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    const distance = el.text.scrollHeight - el.text.clientHeight - el.text.scrollTop;
    const smooth = !reduce && distance < 2 * el.text.clientHeight;
    el.text.scrollTo({ top: el.text.scrollHeight, behavior: smooth ? 'smooth' : 'instant' });
  }

  // The server's HTML uses a handful of tags and class attributes; anything
  // else (scripts, handlers, links, styles) is dropped or flattened to text.
  const ALLOWED_TAGS = new Set(['P', 'PRE', 'SPAN', 'BR', 'B', 'I', 'EM', 'STRONG', 'U', 'TT', 'CODE', 'UL', 'OL', 'LI', 'DIV', 'HR']);

  function sanitizeHtml(html) {
    const tpl = document.createElement('template');
    tpl.innerHTML = html; // template content is inert: no scripts run, no images load
    const clean = (node) => {
      for (const child of Array.from(node.childNodes)) {
        if (child.nodeType === Node.ELEMENT_NODE) {
          if (!ALLOWED_TAGS.has(child.tagName)) {
            child.replaceWith(document.createTextNode(child.textContent));
            continue;
          }
          for (const attr of Array.from(child.attributes)) {
            if (attr.name !== 'class') child.removeAttribute(attr.name);
          }
          clean(child);
        } else if (child.nodeType !== Node.TEXT_NODE) {
          child.remove();
        }
      }
    };
    clean(tpl.content);
    return tpl.content;
  }

  // Names in the side panel arrive HTML-escaped (LlamaTale's client puts them
  // in with innerHTML); decode them in an inert document and use them as text.
  function plainText(s) {
    if (s.indexOf('&') < 0 && s.indexOf('<') < 0) return s;
    const tpl = document.createElement('template');
    tpl.innerHTML = s;
    return tpl.content.textContent;
  }

  function splitList(csv) {
    return csv.split(',').map((s) => plainText(s.trim())).filter((s) => s !== '');
  }

  function fillList(ul, names, commandFor, labelPrefix) {
    if (!ul) return;
    ul.replaceChildren();
    for (const name of names) {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'chip';
      button.textContent = name;
      button.setAttribute('aria-label', labelPrefix + name);
      button.addEventListener('click', () => sendCommand(commandFor(name)));
      li.appendChild(button);
      ul.appendChild(li);
    }
    if (names.length === 0) {
      const li = document.createElement('li');
      li.className = 'none';
      li.textContent = 'none';
      ul.appendChild(li);
    }
  }

  // images: optional file names in resources/, one per name ("" for none);
  // without them the picture is looked up by name as LlamaTale does.
  function fillNpcs(names, images) {
    fillList(el.npcs, names, (name) => 'examine ' + name, 'Examine ');
    for (let i = 0; i < 4; i++) {
      const img = document.getElementById('npc-image' + i);
      if (!img) continue;
      if (i >= names.length) {
        img.hidden = true;
        img.removeAttribute('src');
        img.alt = '';
        continue;
      }
      img.alt = names[i];
      const show = (url) => {
        if (img.alt !== names[i]) return; // the list changed meanwhile
        if (url) {
          img.src = url;
          img.hidden = false;
        } else {
          img.hidden = true;
        }
      };
      if (images) show(images[i] ? 'static/resources/' + encodeURIComponent(images[i]) : '');
      else findNpcImage(names[i], show);
    }
  }

  // LlamaTale names NPC pictures after the NPC (static/resources/<name>.jpg);
  // try the usual formats once per name and remember the answer.
  function findNpcImage(name, done) {
    if (state.npcImageCache.has(name)) {
      done(state.npcImageCache.get(name));
      return;
    }
    const base = 'static/resources/' + encodeURIComponent(name.toLowerCase().replace(/ /g, '_'));
    const exts = ['.jpg', '.png', '.svg', '.webp'];
    const probe = new Image();
    let i = 0;
    const next = () => {
      if (i >= exts.length) {
        state.npcImageCache.set(name, '');
        done('');
        return;
      }
      probe.src = base + exts[i++];
    };
    probe.addEventListener('load', () => {
      state.npcImageCache.set(name, probe.src);
      done(probe.src);
    });
    probe.addEventListener('error', next);
    next();
  }

  // The `noecho` special: the next line is a password.  The field hides it,
  // it never enters the history, and nothing of it leaves for completion.
  function setSecret(on) {
    state.secretNext = on;
    el.input.type = on ? 'password' : 'text';
    if (on && state.placeholder === undefined) state.placeholder = el.input.placeholder;
    el.input.placeholder = on ? 'Password (hidden as you type)' : (state.placeholder || '');
    el.input.autocomplete = on ? 'current-password' : 'off';
    if (el.input.form) el.input.form.classList.toggle('secret', on);
    hideCompletions();
  }

  function setLocationImage(image) {
    if (!el.locationImage) return;
    if (typeof image !== 'string' || image === '') {
      el.locationImage.hidden = true;
      el.locationImage.removeAttribute('src');
      return;
    }
    const url = new URL('static/resources/' + encodeURIComponent(image), window.location.href).href;
    if (el.locationImage.src !== url) el.locationImage.src = url; // 'load' unhides it
    el.locationImage.alt = 'Picture of ' + el.location.textContent;
  }

  // ---------------------------------------------------------------- input

  function submitCommand() {
    const cmd = el.input.value;
    const secret = state.secretNext;
    if (!sendCommand(cmd)) return;
    if (!secret && cmd.trim() !== '' && state.history[state.history.length - 1] !== cmd) {
      state.history.push(cmd);
      if (state.history.length > HISTORY_MAX) state.history.shift();
    }
    state.historyPos = state.history.length;
    state.draft = '';
    el.input.value = '';
    hideCompletions();
  }

  // Send one command over whichever transport is up; false if none is.
  function sendCommand(cmd) {
    if (state.connection !== 'connected') return false;
    if (state.transport === 'websocket' && state.ws && state.ws.readyState === WebSocket.OPEN) {
      state.ws.send(JSON.stringify({ cmd: cmd }));
    } else if (state.transport === 'eventsource') {
      postForm('cmd=' + encodeURIComponent(cmd));
    } else {
      return false;
    }
    if (state.secretNext) setSecret(false);
    el.input.focus();
    return true;
  }

  function postForm(body) {
    return fetch(new URL('input', window.location.href).href, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: body,
      credentials: 'same-origin',
    }).then((res) => {
      if (!res.ok) {
        return res.json().then(
          (j) => appendNotice('The server refused the command: ' + (j && j.error ? j.error : res.status), 'server-error'),
          () => appendNotice('The server refused the command (' + res.status + ').', 'server-error'));
      }
      return undefined;
    }, () => appendNotice('The command could not be sent; it will be possible again once reconnected.', 'server-error'));
  }

  function onKeyDown(ev) {
    if (ev.key === 'Tab' && !ev.shiftKey && !ev.altKey && !ev.ctrlKey && !ev.metaKey) {
      if (el.input.value.trim() !== '') {
        ev.preventDefault(); // keep focus here; an empty line lets Tab move on (keyboard users)
        autocomplete();
      }
      return;
    }
    if (state.secretNext && (ev.key === 'ArrowUp' || ev.key === 'ArrowDown')) return; // no history into a password
    if (ev.key === 'ArrowUp') {
      if (state.historyPos === 0) return;
      ev.preventDefault();
      if (state.historyPos === state.history.length) state.draft = el.input.value;
      state.historyPos--;
      el.input.value = state.history[state.historyPos];
      moveCaretToEnd();
    } else if (ev.key === 'ArrowDown') {
      if (state.historyPos >= state.history.length) return;
      ev.preventDefault();
      state.historyPos++;
      el.input.value = state.historyPos === state.history.length ? state.draft : state.history[state.historyPos];
      moveCaretToEnd();
    } else if (ev.key === 'Escape') {
      hideCompletions();
    }
  }

  function moveCaretToEnd() {
    const n = el.input.value.length;
    el.input.setSelectionRange(n, n);
  }

  // Tab.  Over WebSocket the server answers {"cmd":prefix,"autocomplete":1}
  // with a text frame that lists the completions for the player to read and
  // also carries them as a "completions" array, which fills the input line.
  // Over SSE, GET tabcomplete answers the JSON list directly.
  function autocomplete() {
    const prefix = el.input.value;
    el.input.focus();
    // a password is never a prefix to complete: it would leave in a request (a URL, over SSE)
    if (state.secretNext || prefix.trim() === '' || state.connection !== 'connected') return Promise.resolve();
    if (state.transport === 'websocket' && state.ws && state.ws.readyState === WebSocket.OPEN) {
      state.pendingCompletion = prefix;
      state.ws.send(JSON.stringify({ cmd: prefix, autocomplete: 1 }));
      return Promise.resolve();
    }
    const url = new URL('tabcomplete', window.location.href);
    url.searchParams.set('prefix', prefix);
    return fetch(url.href, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then((res) => (res.ok ? res.json() : Promise.reject(new Error('status ' + res.status))))
      .then((list) => {
        if (Array.isArray(list)) applyCompletions(prefix, list.filter((s) => typeof s === 'string'));
      })
      .catch(() => postForm('cmd=' + encodeURIComponent(prefix) + '&autocomplete=1'));
  }

  function applyCompletions(prefix, list) {
    if (el.input.value !== prefix) return; // the player typed on meanwhile
    if (list.length === 1) {
      el.input.value = list[0].endsWith(' ') ? list[0] : list[0] + ' ';
      hideCompletions();
    } else if (list.length > 1) {
      let common = list[0];
      for (const s of list) {
        let n = 0;
        while (n < common.length && n < s.length && common[n] === s[n]) n++;
        common = common.slice(0, n);
      }
      if (common.length > prefix.length) el.input.value = common;
      showCompletions(list);
    } else {
      showCompletions([]);
    }
    moveCaretToEnd();
  }

  function showCompletions(list) {
    if (!el.completions) return;
    el.completions.replaceChildren();
    const label = document.createElement('span');
    label.className = 'completions-label';
    label.textContent = list.length ? 'Did you mean: ' : 'No completions.';
    el.completions.appendChild(label);
    for (const s of list) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'chip';
      b.textContent = s;
      b.addEventListener('click', () => {
        el.input.value = s + ' ';
        hideCompletions();
        el.input.focus();
      });
      el.completions.appendChild(b);
    }
    el.completions.hidden = false;
  }

  function hideCompletions() {
    if (el.completions) el.completions.hidden = true;
  }

  function quitClicked() {
    if (!window.confirm('Quit the game? The game ends (it is saved first if the server saves games).')) {
      el.input.focus();
      return;
    }
    state.leaving = true;
    clearTimeout(state.retryTimer);
    if (state.ws) state.ws.close(1000, 'quit');
    if (state.es) state.es.close();
    window.location.href = new URL('quit', window.location.href).href;
  }

  // ---------------------------------------------------------------- test hooks

  // Read-only view for tests and curious players (the status line shows the same).
  window.taleClient = {
    get transport() { return state.transport; },
    get connection() { return state.connection; },
    get lastSeq() { return state.lastSeq; },
    get seqs() { return state.seqs.slice(); },
    get reconnects() { return state.reconnects; },
    get restarts() { return state.restarts; },
    get history() { return state.history.slice(); },
    get secret() { return state.secretNext; },
    send: (cmd) => sendCommand(cmd),
    autocomplete: () => autocomplete(),
  };

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', setup);
  else setup();
})();
