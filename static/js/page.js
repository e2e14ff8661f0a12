// musicrec page actions: what the buttons inside a page do (play, play all, add to queue, like,
// dislike, don't recommend, start a radio). One delegated listener on the document, so pages that
// htmx swaps in need no set-up; data comes from data- attributes on each track row.
(function () {
  "use strict";

  function player() { return window.musicrecPlayer; }

  function pageData() {
    var page = document.getElementById("page");
    return page ? page.dataset : {};
  }

  function trackOf(row) {
    var d = row.dataset;
    return {
      id: Number(d.trackId), title: d.title, artist: d.artist, artistId: Number(d.artistId),
      audioUrl: d.audioUrl || "", imageUrl: d.imageUrl || "", duration: Number(d.duration) || 0,
      reason: d.reason || "",
    };
  }

  function rowsOf(container) {
    return Array.prototype.map.call(container.querySelectorAll(".track-row"), trackOf)
      .filter(function (t) { return t.audioUrl; });
  }

  function listFor(button) {
    var selector = button.dataset.list;
    var list = selector ? document.querySelector(selector) : null;
    return list || button.closest("section, article, main");
  }

  var FEEDBACK_TEXT = {
    like: "Liked: more like “%s” in your recommendations.",
    dislike: "Disliked: less like “%s” in your recommendations.",
    dont_recommend: "“%s” will not be recommended to you again.",
  };

  function sendFeedback(trackId, kind, title, button) {
    if (!pageData().signedIn) {
      player().say("Sign in to tell us what you like.", {
        href: (pageData().loginUrl || "/accounts/login/") + "?next=" +
          encodeURIComponent(location.pathname + location.search), text: "Sign in" });
      return;
    }
    fetch(pageData().feedbackUrl || "/api/feedback/", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": window.musicrecListens.csrfToken() },
      body: JSON.stringify({ track_id: trackId, kind: kind }),
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      player().say(FEEDBACK_TEXT[kind].replace("%s", title));
      document.querySelectorAll("[data-feedback][data-feedback-track='" + trackId + "']").forEach(function (b) {
        b.setAttribute("aria-pressed", String(b.dataset.feedback === kind));
      });
      if (button && !button.dataset.feedbackTrack) button.setAttribute("aria-pressed", "true");
      var menu = button && button.closest("details");
      if (menu) menu.open = false;
    }).catch(function () {
      player().say("That could not be saved; try again.");
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action], [data-feedback]");
    if (!button || button.disabled) return;
    var row = button.closest(".track-row");
    if (button.dataset.feedback) {
      var id = Number(button.dataset.feedbackTrack || (row && row.dataset.trackId) ||
        (player().current() && player().current().id));
      var title = row ? row.dataset.title : button.dataset.title ||
        (player().current() ? player().current().title : "");
      if (id) sendFeedback(id, button.dataset.feedback, title, button);
      return;
    }
    var action = button.dataset.action;
    if (action === "play" && row) {
      var list = row.closest(".track-list");
      var rows = list ? rowsOf(list) : [trackOf(row)];
      var at = rows.findIndex(function (t) { return t.id === Number(row.dataset.trackId); });
      var currentTrack = player().current();
      if (currentTrack && currentTrack.id === Number(row.dataset.trackId)) { player().toggle(); return; }
      player().playNow(rows, Math.max(at, 0), { replace: true });
    } else if (action === "play-all") {
      var tracks = rowsOf(listFor(button));
      if (tracks.length) player().playNow(tracks, 0, { replace: true });
    } else if (action === "queue" && row) {
      player().enqueue([trackOf(row)], false);
    } else if (action === "play-next" && row) {
      player().enqueue([trackOf(row)], true);
    } else if (action === "queue-all") {
      player().enqueue(rowsOf(listFor(button)), false);
    } else if (action === "radio") {
      player().startRadio(button.dataset.radio, button.dataset.radioLabel);
    } else {
      return;
    }
    var menu = button.closest("details");
    if (menu) menu.open = false;
  });

  // One row menu open at a time; Escape closes it.
  document.addEventListener("toggle", function (event) {
    var menu = event.target;
    if (!menu.classList || !menu.classList.contains("row-menu") || !menu.open) return;
    document.querySelectorAll("details.row-menu[open]").forEach(function (other) {
      if (other !== menu) other.open = false;
    });
  }, true);
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.row-menu[open]").forEach(function (menu) { menu.open = false; });
  });

  // A response that is not one of our pages (the admin, a file) loads as a whole page.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    var body = xhr && xhr.responseText;
    if (typeof body === "string" && body.indexOf('id="page"') < 0) {
      event.detail.shouldSwap = false;
      window.location.assign(xhr.responseURL || event.detail.pathInfo.requestPath);
    }
  });
})();
