// musicrec listens: turns what the player does into listens (POST /api/listens/).
//
// - completed: the track ends, or 90% of it has been heard;
// - skipped: the listener moves on (next track, another track, or leaves the page) within 30 s heard;
// - otherwise a partial play.
// Every listen carries a client event id and stays in localStorage until the server has it, so a
// retried request (after a network error, or from the next page load) is never a second listen.
// Signed out, nothing is sent: the player says so instead (docs/player.md).
(function () {
  "use strict";

  var COMPLETE_AT = 0.9;
  var SKIP_WITHIN_MS = 30000;
  var PENDING_KEY = "musicrec.pendingListens";

  function pageData() {
    var page = document.getElementById("page");
    return page ? page.dataset : {};
  }

  function csrfToken() {
    var field = document.querySelector("#page input[name=csrfmiddlewaretoken]");
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
      return null; // stays pending; sent again on the next page load
    });
  }

  function send(listen, keepalive) {
    var item = { url: pageData().listensUrl || "/api/listens/", listen: listen };
    var items = pending();
    items.push(item);
    savePending(items);
    return post(item, keepalive);
  }

  // One session per play of a queue entry: started on the first "play", finished once.
  function Session(track, audio) {
    this.track = track;
    this.audio = audio;
    this.id = newId();
    this.listenedAt = new Date().toISOString();
    this.heardMs = 0;
    this.last = audio.currentTime;
    this.done = false;
  }

  Session.prototype.tick = function () {
    var step = this.audio.currentTime - this.last;
    if (step > 0 && step < 2.5) this.heardMs += step * 1000; // a seek is not listening
    this.last = this.audio.currentTime;
    var duration = this.audio.duration;
    return !!(duration && this.audio.currentTime / duration >= COMPLETE_AT);
  };

  Session.prototype.seeked = function () { this.last = this.audio.currentTime; };

  // Returns a promise of {outcome, ok, saved}; `saved` is false when signed out (nothing sent).
  Session.prototype.finish = function (completed, keepalive) {
    if (this.done) return Promise.resolve(null);
    this.done = true;
    var heard = Math.round(this.heardMs);
    var skipped = !completed && heard < SKIP_WITHIN_MS;
    var outcome = completed ? "completed" : skipped ? "skipped" : "partial";
    if (!pageData().signedIn) {
      return Promise.resolve({ outcome: outcome, ok: false, saved: false, track: this.track });
    }
    var listen = {
      track_id: this.track.id,
      listened_at: this.listenedAt,
      ms_played: heard,
      completed: completed,
      skipped: skipped,
      client_event_id: this.id,
    };
    var track = this.track;
    return send(listen, keepalive).then(function (response) {
      return { outcome: outcome, ok: !!(response && response.ok), saved: true, track: track };
    });
  };

  function flushPending() {
    if (!pageData().signedIn) return;
    pending().forEach(function (item) { post(item, false); });
  }

  window.musicrecListens = { Session: Session, flushPending: flushPending, csrfToken: csrfToken };
})();
