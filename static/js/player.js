// musicrec player: one <audio> in the player bar, outside the part of the page that navigation
// replaces (htmx swaps #page only), so music keeps playing while the listener browses.
// The queue, the current entry, the position and a running radio station are kept in
// localStorage and restored after a reload. Keyboard, media keys and the lock screen drive it
// through the Media Session API. docs/player.md describes it for listeners.
(function () {
  "use strict";

  var STATE_KEY = "musicrec.player";
  var RESTART_AFTER_S = 3; // "previous" after this many seconds restarts the track instead
  var REFILL_WHEN_LEFT = 3; // a radio queue asks for more when this few tracks are left
  var MAX_PLAYED_SENT = 500; // the most queue ids a refill sends (the API's limit)
  var Listens = window.musicrecListens;

  var bar, audio, queueList, statusLine;
  var state = { queue: [], index: -1, position: 0, radio: null };
  var session = null;
  var refilling = false;
  var lastSaved = 0;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) node.textContent = text;
    return node;
  }

  function icon(name) {
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("class", "icon");
    svg.setAttribute("aria-hidden", "true");
    var use = document.createElementNS("http://www.w3.org/2000/svg", "use");
    use.setAttribute("href", "#i-" + name);
    svg.appendChild(use);
    return svg;
  }

  function clock(seconds) {
    if (!isFinite(seconds) || seconds < 0) seconds = 0;
    var s = Math.floor(seconds % 60);
    return Math.floor(seconds / 60) + ":" + (s < 10 ? "0" : "") + s;
  }

  function pageData() {
    var page = document.getElementById("page");
    return page ? page.dataset : {};
  }

  // --- state ---------------------------------------------------------------------------------

  function save(force) {
    var now = Date.now();
    if (!force && now - lastSaved < 1000) return;
    lastSaved = now;
    state.position = audio && isFinite(audio.currentTime) ? audio.currentTime : 0;
    try {
      localStorage.setItem(STATE_KEY, JSON.stringify(state));
    } catch (error) {
      /* private mode: the queue lives for this page only */
    }
  }

  function restore() {
    try {
      var saved = JSON.parse(localStorage.getItem(STATE_KEY) || "null");
      if (saved && Array.isArray(saved.queue)) {
        state.queue = saved.queue.filter(function (t) { return t && t.id && t.audioUrl; });
        state.index = Math.min(Number(saved.index) || 0, state.queue.length - 1);
        state.position = Number(saved.position) || 0;
        state.radio = saved.radio || null;
      }
    } catch (error) {
      /* a damaged entry: start empty */
    }
  }

  function current() {
    return state.queue[state.index] || null;
  }

  // --- playing -------------------------------------------------------------------------------

  function finishSession(completed, keepalive) {
    if (!session) return;
    var finished = session;
    session = null;
    finished.finish(completed, keepalive).then(function (result) {
      if (!result) return;
      if (result.track.radio && result.outcome === "skipped" && state.radio) {
        state.radio.skipped = (state.radio.skipped || []).concat([result.track.id]).slice(-50);
        save(true);
      }
      if (!result.saved) {
        signedOutNotice();
      } else if (result.ok) {
        say({ completed: "Listen recorded: played through.", skipped: "Listen recorded as a skip.",
          partial: "Listen recorded." }[result.outcome]);
      }
      audio.dataset.lastListen = result.outcome;
      document.dispatchEvent(new CustomEvent("musicrec:listen", { detail: result }));
    });
  }

  function load(index, autoplay, position) {
    if (index < 0 || index >= state.queue.length) return;
    finishSession(false);
    state.index = index;
    var track = current();
    audio.src = track.audioUrl;
    if (position) {
      audio.addEventListener("loadedmetadata", function seek() {
        audio.removeEventListener("loadedmetadata", seek);
        try { audio.currentTime = position; } catch (error) { /* not seekable yet */ }
      });
    }
    render();
    setMediaSession(track);
    save(true);
    if (autoplay) play();
    refillSoon();
  }

  function play() {
    if (!current()) return Promise.resolve();
    var started = audio.play();
    return started && started.catch ? started.catch(function () {
      say("Press play to start.");
    }) : Promise.resolve();
  }

  function toggle() {
    if (!current()) return;
    if (audio.paused) play(); else audio.pause();
  }

  function next() {
    if (state.index + 1 < state.queue.length) {
      load(state.index + 1, true);
    } else if (state.radio) {
      refill().then(function () { if (state.index + 1 < state.queue.length) load(state.index + 1, true); });
    }
  }

  function previous() {
    if (audio.currentTime > RESTART_AFTER_S || state.index === 0) {
      finishSession(false);
      audio.currentTime = 0;
      play();
    } else {
      load(state.index - 1, true);
    }
  }

  // --- the queue -----------------------------------------------------------------------------

  function playNow(tracks, startAt, options) {
    options = options || {};
    if (!tracks.length) return;
    if (!options.keepRadio) state.radio = null;
    if (options.replace) {
      state.queue = tracks.slice();
      load(startAt || 0, true);
    } else {
      var at = state.index + 1;
      state.queue.splice.apply(state.queue, [at, 0].concat(tracks));
      load(at, true);
    }
  }

  function enqueue(tracks, nextUp) {
    var at = nextUp ? state.index + 1 : state.queue.length;
    state.queue.splice.apply(state.queue, [at, 0].concat(tracks));
    if (state.index < 0) load(0, false);
    render();
    save(true);
    say(tracks.length === 1 ? "“" + tracks[0].title + "” " + (nextUp ? "plays next." : "is in the queue.")
      : tracks.length + " tracks added to the queue.");
  }

  function move(from, to) {
    if (to < 0 || to >= state.queue.length || from === to) return;
    var item = state.queue.splice(from, 1)[0];
    state.queue.splice(to, 0, item);
    if (state.index === from) state.index = to;
    else if (from < state.index && to >= state.index) state.index -= 1;
    else if (from > state.index && to <= state.index) state.index += 1;
    render();
    save(true);
  }

  function remove(at) {
    if (at === state.index) {
      finishSession(false);
      state.queue.splice(at, 1);
      if (!state.queue.length) return clear();
      load(Math.min(at, state.queue.length - 1), !audio.paused);
      return;
    }
    state.queue.splice(at, 1);
    if (at < state.index) state.index -= 1;
    render();
    save(true);
  }

  function clear() {
    finishSession(false);
    audio.pause();
    audio.removeAttribute("src");
    audio.load();
    state = { queue: [], index: -1, position: 0, radio: null };
    render();
    save(true);
  }

  // --- radio: the queue refills itself before it runs dry --------------------------------------

  function startRadio(params, label) {
    state.radio = { params: params, station: null, skipped: [], label: label || "Radio" };
    state.queue = state.queue.slice(0, state.index + 1);
    return refill().then(function (added) {
      if (added) load(state.index + 1, true);
      else say("This station has nothing to play yet.");
    });
  }

  function refillSoon() {
    if (state.radio && state.queue.length - state.index - 1 < REFILL_WHEN_LEFT) refill();
  }

  function refill() {
    if (!state.radio || refilling) return Promise.resolve(0);
    refilling = true;
    var radio = state.radio;
    var query = radio.station ? "station=" + encodeURIComponent(radio.station) : radio.params;
    if (radio.skipped && radio.skipped.length) query += "&skipped=" + radio.skipped.join(",");
    // continuing a station, what the queue holds goes along: the station never repeats it, even
    // if the server forgot it (a new station opens with its seed, whatever plays now)
    var held = [];
    state.queue.forEach(function (t) { if (held.indexOf(t.id) < 0) held.push(t.id); });
    if (radio.station && held.length) query += "&played=" + held.slice(-MAX_PLAYED_SENT).join(",");
    return fetch((pageData().radioUrl || "/api/radio/") + "?" + query + "&n=10", {
      credentials: "same-origin", headers: { Accept: "application/json" },
    }).then(function (response) {
      return response.ok ? response.json() : Promise.reject(response.status);
    }).then(function (body) {
      if (state.radio !== radio) return 0;
      radio.station = body.station;
      var tracks = body.results.map(function (result) {
        return fromCompact(result.track, result.reason && result.reason.text, true);
      }).filter(function (t) { return t.audioUrl; });
      state.queue = state.queue.concat(tracks);
      render();
      save(true);
      document.dispatchEvent(new CustomEvent("musicrec:radio", { detail: { added: tracks.length } }));
      return tracks.length;
    }).catch(function () {
      say("The radio could not fetch more tracks; try again in a moment.");
      return 0;
    }).then(function (added) {
      refilling = false;
      return added;
    });
  }

  function fromCompact(track, reason, radio) {
    return {
      id: track.id, title: track.title, artist: track.artist.name, artistId: track.artist.id,
      audioUrl: track.audio_url, imageUrl: track.image_url, duration: track.duration_s,
      reason: reason || "", radio: !!radio,
    };
  }

  // --- drawing -------------------------------------------------------------------------------

  function say(text, link) {
    statusLine.textContent = text || "";
    if (link) {
      statusLine.appendChild(document.createTextNode(" "));
      statusLine.appendChild(el("a", { href: link.href }, link.text));
    }
  }

  function signedOutNotice() {
    if (pageData().signedIn) return;
    say("You are not signed in, so this play is not saved to your history.",
      { href: (pageData().loginUrl || "/accounts/login/") + "?next=" +
        encodeURIComponent(location.pathname + location.search), text: "Sign in" });
  }

  function render() {
    var track = current();
    bar.hidden = !track;
    document.body.classList.toggle("has-player", !!track);
    var title = bar.querySelector(".np-title");
    var artist = bar.querySelector(".np-artist");
    var art = bar.querySelector(".np-art");
    if (track) {
      title.textContent = track.title;
      title.href = "/tracks/" + track.id + "/";
      artist.textContent = track.artist;
      artist.href = "/artists/" + track.artistId + "/";
      art.src = track.imageUrl || "";
      bar.querySelector(".np-reason").textContent = track.reason || (state.radio ? state.radio.label : "");
      bar.querySelector(".time-total").textContent = clock(track.duration);
      bar.dataset.trackId = track.id;
    }
    bar.querySelector("[data-player=prev]").disabled = !track;
    bar.querySelector("[data-player=next]").disabled = !track ||
      (state.index >= state.queue.length - 1 && !state.radio);
    bar.querySelector(".queue-count").textContent = String(Math.max(state.queue.length - state.index - 1, 0));
    renderQueue();
    renderPlaying();
  }

  function renderPlaying() {
    var playing = !!current() && !audio.paused;
    var button = bar.querySelector("[data-player=toggle]");
    button.classList.toggle("is-playing", playing);
    button.setAttribute("aria-label", playing ? "Pause" : "Play");
    var id = current() ? String(current().id) : "";
    document.querySelectorAll("#page .track-row").forEach(function (row) {
      row.classList.toggle("is-current", row.dataset.trackId === id);
    });
  }

  function renderQueue() {
    queueList.textContent = "";
    var radioNote = bar.querySelector(".queue-radio");
    radioNote.textContent = state.radio ? state.radio.label + ": the queue refills itself." : "";
    state.queue.forEach(function (track, i) {
      var item = el("li", { "data-index": String(i), "data-track-id": String(track.id) });
      if (i === state.index) item.className = "is-current";
      if (i < state.index) item.classList.add("is-past");
      var jump = el("button", { type: "button", class: "queue-jump", "data-queue": "jump",
        "aria-label": "Play " + track.title + " by " + track.artist });
      jump.appendChild(el("span", { class: "queue-title" }, track.title));
      jump.appendChild(el("span", { class: "queue-artist" }, track.artist));
      if (track.reason) jump.appendChild(el("span", { class: "queue-reason" }, track.reason));
      item.appendChild(jump);
      [["up", "Move up", "up"], ["down", "Move down", "down"], ["remove", "Remove", "close"]]
        .forEach(function (spec) {
          var button = el("button", { type: "button", class: "icon-button", "data-queue": spec[0],
            "aria-label": spec[1] + ": " + track.title });
          button.appendChild(icon(spec[2]));
          item.appendChild(button);
        });
      queueList.appendChild(item);
    });
  }

  function renderTime() {
    var seek = bar.querySelector(".seek");
    var duration = audio.duration || (current() && current().duration) || 0;
    bar.querySelector(".time-current").textContent = clock(audio.currentTime);
    if (audio.duration) bar.querySelector(".time-total").textContent = clock(audio.duration);
    if (document.activeElement !== seek) seek.value = duration ? Math.round(1000 * audio.currentTime / duration) : 0;
  }

  // --- Media Session: lock screen, headphones, media keys ----------------------------------------

  function setMediaSession(track) {
    if (!("mediaSession" in navigator) || !window.MediaMetadata) return;
    // the picture is a JPEG cover or a drawn SVG: the browser reads the type from the response
    var artwork = track.imageUrl ? [{ src: new URL(track.imageUrl, location.href).href, sizes: "512x512" }] : [];
    navigator.mediaSession.metadata = new MediaMetadata({
      title: track.title, artist: track.artist, album: state.radio ? state.radio.label : "musicrec",
      artwork: artwork,
    });
  }

  function setPositionState() {
    if (!("mediaSession" in navigator) || !navigator.mediaSession.setPositionState) return;
    if (!audio.duration || !isFinite(audio.duration)) return;
    try {
      navigator.mediaSession.setPositionState({
        duration: audio.duration, playbackRate: audio.playbackRate,
        position: Math.min(audio.currentTime, audio.duration),
      });
    } catch (error) { /* an old browser's stricter checks */ }
  }

  function mediaHandlers() {
    if (!("mediaSession" in navigator)) return;
    var handlers = {
      play: play,
      pause: function () { audio.pause(); },
      previoustrack: previous,
      nexttrack: next,
      seekbackward: function (d) { audio.currentTime = Math.max(0, audio.currentTime - (d.seekOffset || 10)); },
      seekforward: function (d) { audio.currentTime = audio.currentTime + (d.seekOffset || 10); },
      seekto: function (d) { audio.currentTime = d.seekTime; },
    };
    Object.keys(handlers).forEach(function (action) {
      try { navigator.mediaSession.setActionHandler(action, handlers[action]); } catch (error) { /* unsupported */ }
    });
  }

  // --- wiring ----------------------------------------------------------------------------------

  function onKey(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable=true]")) return;
    var onButton = target.closest && target.closest("button, a, summary");
    if ((event.key === " " || event.key === "k") && !onButton) {
      event.preventDefault();
      toggle();
    } else if (event.key === "N" && event.shiftKey) {
      next();
    } else if (event.key === "P" && event.shiftKey) {
      previous();
    } else if (event.key === "ArrowRight" && !onButton && current()) {
      audio.currentTime = audio.currentTime + 10;
    } else if (event.key === "ArrowLeft" && !onButton && current()) {
      audio.currentTime = Math.max(0, audio.currentTime - 10);
    }
  }

  function onBarClick(event) {
    var control = event.target.closest("[data-player]");
    if (control) {
      var action = control.dataset.player;
      if (action === "toggle") toggle();
      else if (action === "next") next();
      else if (action === "prev") previous();
      else if (action === "queue") {
        var panel = document.getElementById("queue-panel");
        panel.hidden = !panel.hidden;
        control.setAttribute("aria-expanded", String(!panel.hidden));
      } else if (action === "clear") clear();
      return;
    }
    var queued = event.target.closest("[data-queue]");
    if (!queued) return;
    var index = Number(queued.closest("li").dataset.index);
    var what = queued.dataset.queue;
    if (what === "jump") load(index, true);
    else if (what === "up") move(index, index - 1);
    else if (what === "down") move(index, index + 1);
    else if (what === "remove") remove(index);
  }

  function init() {
    bar = document.getElementById("player");
    audio = document.getElementById("player-audio");
    if (!bar || !audio) return;
    queueList = bar.querySelector(".queue-list");
    statusLine = bar.querySelector(".player-status");
    audio.dataset.instance = Math.random().toString(36).slice(2);

    audio.addEventListener("play", function () {
      if (!session && current()) session = new Listens.Session(current(), audio);
      if (!pageData().signedIn) signedOutNotice();
      renderPlaying();
    });
    audio.addEventListener("pause", function () { renderPlaying(); save(true); });
    audio.addEventListener("timeupdate", function () {
      renderTime();
      save(false);
      if (session && !audio.paused && session.tick()) finishSession(true);
    });
    audio.addEventListener("seeked", function () { if (session) session.seeked(); setPositionState(); });
    audio.addEventListener("loadedmetadata", function () { renderTime(); setPositionState(); });
    audio.addEventListener("ended", function () {
      finishSession(true);
      if (state.index + 1 < state.queue.length || state.radio) next();
      else renderPlaying();
    });
    audio.addEventListener("error", function () {
      if (current() && audio.getAttribute("src")) say("“" + current().title + "” could not be played.");
    });
    bar.querySelector(".seek").addEventListener("input", function (event) {
      var duration = audio.duration || 0;
      if (duration) audio.currentTime = duration * Number(event.target.value) / 1000;
    });
    bar.addEventListener("click", onBarClick);
    document.addEventListener("keydown", onKey);
    window.addEventListener("pagehide", function () {
      save(true);
      finishSession(false, true);
    });
    mediaHandlers();

    restore();
    if (current()) load(state.index, false, state.position);
    else render();
    Listens.flushPending();
    document.body.addEventListener("htmx:afterSettle", function () { Listens.flushPending(); renderPlaying(); });
  }

  window.musicrecPlayer = {
    playNow: playNow, enqueue: enqueue, startRadio: startRadio, fromCompact: fromCompact,
    toggle: toggle, next: next, previous: previous, clear: clear, current: current,
    listening: function () { return !!session; },
    audio: function () { return audio; }, state: function () { return state; }, say: say,
    signedOutNotice: signedOutNotice,
  };
  document.addEventListener("DOMContentLoaded", init);
})();
