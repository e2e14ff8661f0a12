// musicrec player: records what each <audio class="player"> does as a listen (POST /api/listens/).
//
// - completed: the track ends, or 90% of it has been heard;
// - skipped: the listener moves on (another track, or leaves the page) within 30 seconds heard;
// - otherwise a partial play.
// Every listen carries a client event id and stays in localStorage until the server has it, so
// a retried request (after a network error, or from the next page) is never a second listen.
(function () {
  "use strict";

  var COMPLETE_AT = 0.9;
  var SKIP_WITHIN_MS = 30000;
  var PENDING_KEY = "musicrec.pendingListens";
  var sessions = [];

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function pending() {
    try {
      return JSON.parse(localStorage.getItem(PENDING_KEY) || "[]");
    } catch (error) {
      return [];
    }
  }

  function savePending(items) {
    try {
      localStorage.setItem(PENDING_KEY, JSON.stringify(items.slice(-200)));
    } catch (error) {
      /* private mode: the listen is still sent once */
    }
  }

  function forget(id) {
    savePending(pending().filter(function (item) { return item.listen.client_event_id !== id; }));
  }

  function post(item, keepalive) {
    return fetch(item.url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: !!keepalive,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(item.listen),
    }).then(function (response) {
      // Stored (201), or refused for good (a 4xx other than throttling): stop retrying.
      var final = response.ok || (response.status >= 400 && response.status < 500 &&
        response.status !== 408 && response.status !== 429);
      if (final) forget(item.listen.client_event_id);
      return response;
    }).catch(function () {
      return null; // stays pending; sent again on the next page
    });
  }

  function send(url, listen, keepalive) {
    var item = { url: url, listen: listen };
    var items = pending();
    items.push(item);
    savePending(items);
    return post(item, keepalive);
  }

  function attach(audio) {
    var url = audio.dataset.listensUrl;
    var trackId = Number(audio.dataset.trackId);
    var status = audio.parentNode.querySelector(".player-status");
    var session = null;

    function start() {
      if (session) return;
      session = { id: newId(), listenedAt: new Date().toISOString(), heardMs: 0, last: audio.currentTime };
    }

    function finish(completed, keepalive) {
      if (!session) return;
      var heard = Math.round(session.heardMs);
      var skipped = !completed && heard < SKIP_WITHIN_MS;
      var listen = {
        track_id: trackId,
        listened_at: session.listenedAt,
        ms_played: heard,
        completed: completed,
        skipped: skipped,
        client_event_id: session.id,
      };
      session = null;
      var outcome = completed ? "completed" : skipped ? "skipped" : "partial";
      audio.dataset.lastListen = outcome;
      send(url, listen, keepalive).then(function (response) {
        if (status && response && response.ok) {
          status.textContent = { completed: "Listen recorded: played through.",
            skipped: "Listen recorded as a skip.", partial: "Listen recorded." }[outcome];
        }
        audio.dispatchEvent(new CustomEvent("musicrec:listen", { detail: { outcome: outcome, ok: !!(response && response.ok) } }));
      });
    }

    audio.addEventListener("play", function () {
      sessions.forEach(function (other) { if (other.audio !== audio) other.moveOn(); });
      start();
    });
    audio.addEventListener("timeupdate", function () {
      if (!session) return;
      var step = audio.currentTime - session.last;
      if (step > 0 && step < 2.5) session.heardMs += step * 1000; // a seek is not listening
      session.last = audio.currentTime;
      if (audio.duration && audio.currentTime / audio.duration >= COMPLETE_AT) finish(true);
    });
    audio.addEventListener("seeked", function () { if (session) session.last = audio.currentTime; });
    audio.addEventListener("ended", function () { finish(true); });

    sessions.push({
      audio: audio,
      moveOn: function () {
        if (!audio.paused) audio.pause();
        finish(false);
      },
      leave: function () { finish(false, true); },
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    pending().forEach(function (item) { post(item, false); });
    Array.prototype.forEach.call(document.querySelectorAll("audio.player"), attach);
  });
  window.addEventListener("pagehide", function () {
    sessions.forEach(function (session) { session.leave(); });
  });
})();
