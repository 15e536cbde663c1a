/* The annotate page: keys, label choice and active time. The DOM is the state: every swap of
   #task-panel brings a fresh form, so nothing here needs resetting except the timer and the highlight. */
(function () {
  "use strict";

  var IDLE_MS = 60000, TICK_MS = 500; // no key, mouse or scroll for a minute: the annotator is away
  var $ = function (id) { return document.getElementById(id); };

  var activeSeconds = 0, lastTick = performance.now(), lastActivity = Date.now(), taskId = null;
  var busy = false;          // from request to the new panel's load: keys must not act on a stale task
  var highlight = -1;        // index of the highlighted search result
  var loadedQuery = "";      // the query the shown results answer
  var enterQueued = false;   // Enter pressed before the results for the typed query arrived

  /* Active time */
  function tick() {
    // Timers are throttled or frozen in background tabs: a long gap is never counted whole.
    var now = performance.now(), elapsed = Math.min(now - lastTick, 2 * TICK_MS);
    lastTick = now;
    if (document.visibilityState === "visible" && Date.now() - lastActivity < IDLE_MS) activeSeconds += elapsed / 1000;
  }
  function seconds() { tick(); return (Math.round(activeSeconds * 10) / 10).toFixed(1); }
  function writeSeconds() { var input = $("answer-active-seconds"); if (input) input.value = seconds(); }
  function markActive() { lastActivity = Date.now(); }

  setInterval(writeSeconds, TICK_MS);
  ["keydown", "mousedown", "mousemove", "wheel", "scroll", "touchstart", "focusin"].forEach(function (type) {
    document.addEventListener(type, markActive, { capture: true, passive: true });
  });
  document.addEventListener("visibilitychange", function () {
    lastTick = performance.now();
    if (document.visibilityState === "visible") markActive();
  });

  /* Helpers */
  function announce(text) { var region = $("announcer"); if (region) region.textContent = text; }
  function focusPanel() { var panel = $("task-panel"); if (panel) panel.focus({ preventScroll: true }); }
  function showHint(show, text) { var h = $("answer-hint"); if (h) { if (text) h.textContent = text; h.hidden = !show; } }
  function ready() {
    var label = $("answer-label"), flagged = $("answer-flagged"), spans = $("answer-spans");
    // A span answer is ready as soon as the span editor has written it: no span at all is an answer too.
    if (spans) return spans.value !== "";
    return Boolean((label && label.value) || (flagged && flagged.value === "true"));
  }

  /* Choosing a label, flagging, acting */
  function pick(button) {
    var input = $("answer-label"), shown = $("selected-label"), path = $("selected-label-path");
    if (!input || !button) return;
    var id = button.getAttribute("data-label-id");
    input.value = id;
    if (shown) { shown.setAttribute("data-label-id", id); shown.classList.remove("none"); }
    if (path) path.textContent = button.getAttribute("data-label-path");
    document.querySelectorAll("#shortcuts [data-label-id]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-label-id") === id));
    });
    showHint(false);
  }

  function chooseShortcut(key) {
    var button = document.querySelector('#shortcuts [data-key="' + key + '"]');
    if (!button) return;
    // The same digit again confirms: 3 then 3 submits, like Enter.
    if ($("answer-label").value === button.getAttribute("data-label-id")) submit(); else pick(button);
  }

  function toggleFlag() { var input = $("answer-flagged"); if (input) setFlag(input.value !== "true"); }
  function setFlag(on) {
    var input = $("answer-flagged"), button = $("flag-button"), state = $("flag-state");
    if (!input) return;
    input.value = on ? "true" : "false";
    if (button) button.setAttribute("aria-pressed", String(on));
    if (state) state.hidden = !on;
    $("task-panel").classList.toggle("flagged", on);
    if (on) showHint(false);
  }

  function submit() {
    var form = $("answer-form"), button = $("submit-button");
    if (!form || busy) return;
    if (!ready()) { showHint(true); return; }
    writeSeconds();
    if (form.requestSubmit) form.requestSubmit(button); else button.click();
  }
  // A button marked data-submit-key answers in one press or click: choose (or flag, for data-flag) and submit.
  function answerNow(button) {
    if (busy) return;
    if (button.getAttribute("data-flag") === "true") { $("answer-label").value = ""; setFlag(true); } else pick(button);
    submit();
  }
  function click(id) { var button = $(id); if (button && !busy) { writeSeconds(); button.click(); } }

  /* Search results */
  function options() { return Array.prototype.slice.call(document.querySelectorAll("#label-results [data-label-id]")); }
  function setHighlight(index) {
    var list = options(), search = $("label-search");
    highlight = list.length ? Math.max(-1, Math.min(index, list.length - 1)) : -1;
    list.forEach(function (option, i) {
      option.classList.toggle("highlighted", i === highlight);
      option.setAttribute("aria-selected", String(i === highlight));
    });
    if (!search) return;
    if (highlight < 0) { search.removeAttribute("aria-activedescendant"); return; }
    list[highlight].scrollIntoView({ block: "nearest" });
    search.setAttribute("aria-activedescendant", list[highlight].id);
  }

  function leaveSearch() {
    var search = $("label-search");
    setHighlight(-1);
    if (search) search.setAttribute("aria-expanded", "false");
    focusPanel();
  }

  function pickFromResults(option) {
    pick(option); announce("Selected " + option.getAttribute("data-label-path")); leaveSearch();
  }

  function searchKey(event, search) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      setHighlight(highlight + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter") {
      event.preventDefault(); // no implicit submission of the surrounding form
      var list = options();
      if (highlight >= 0 && list[highlight]) pickFromResults(list[highlight]);
      else if (search.value !== loadedQuery) enterQueued = true;
      else if ($("answer-label").value) submit();
      else showHint(true);
    } else if (event.key === "Escape") { event.preventDefault(); leaveSearch(); }
  }

  function toggleHelp(show) {
    var overlay = $("help-overlay"), button = $("help-button");
    if (!overlay) return;
    overlay.hidden = !show;
    if (button) button.setAttribute("aria-expanded", String(show));
    if (show) $("help-close").focus(); else focusPanel();
  }

  /* Keys and mouse */
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    var target = event.target, key = event.key, search = $("label-search"), overlay = $("help-overlay");
    if (overlay && !overlay.hidden) {
      if (key === "Escape" || key === "?") { event.preventDefault(); toggleHelp(false); }
      return;
    }
    if (search && target === search) { searchKey(event, search); return; }
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    if (window.ShelfmarkSpans && window.ShelfmarkSpans.key(event)) return;
    if (window.ShelfmarkTree && window.ShelfmarkTree.key(event, pickFromResults, leaveSearch)) return;
    if (key === "?") { event.preventDefault(); toggleHelp(true); return; }
    if (key === "/" && search) { event.preventDefault(); search.focus(); return; }
    if ((key === "t" || key === "T") && window.ShelfmarkTree && window.ShelfmarkTree.focus()) { event.preventDefault(); return; }
    if (!/^([1-9]|Enter|[sufSUF])$/.test(key)) return;
    // Enter on a focused button or link keeps its usual meaning for keyboard users who tabbed there.
    if (key === "Enter" && target.closest && target.closest("button, a, summary")) return;
    event.preventDefault();
    if (busy) return;
    var direct = /^[1-9]$/.test(key) && document.querySelector('#task-panel [data-submit-key="' + key + '"]');
    if (direct) answerNow(direct);
    else if (/^[1-9]$/.test(key)) chooseShortcut(key);
    else if (key === "Enter") submit();
    else if (key === "s" || key === "S") click("skip-button");
    else if (key === "u" || key === "U") click("undo-button");
    else toggleFlag();
  });

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : event.target.parentElement;
    var direct = target.closest("#task-panel [data-submit-key]");
    var option = target.closest("#task-panel button[data-label-id]");
    if (direct) {
      event.preventDefault(); // the answer goes through the form's hidden fields, as from the keyboard
      answerNow(direct);
    } else if (window.ShelfmarkTree && window.ShelfmarkTree.click(target, pickFromResults)) {
      return; // the tree opened, closed or picked
    } else if (option) {
      if (option.closest("#label-results")) pickFromResults(option); else { pick(option); focusPanel(); }
    } else if (target.closest("#flag-button")) {
      toggleFlag(); focusPanel();
    } else if (target.closest("#help-button")) {
      toggleHelp(true);
    } else if (target.closest("#help-close") || target.id === "help-overlay") {
      toggleHelp(false);
    }
  });

  document.addEventListener("input", function (event) {
    if (event.target.id === "label-search") { setHighlight(-1); event.target.setAttribute("aria-expanded", "true"); }
  });

  // Without htmx the form posts normally: still refuse an empty answer and send the time.
  document.addEventListener("submit", function (event) {
    if (event.target.id !== "answer-form") return;
    var skipping = event.submitter && event.submitter.id === "skip-button";
    if (!skipping && !ready()) { event.preventDefault(); showHint(true); return; }
    writeSeconds();
  }, true);

  /* htmx */
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt, form = $("answer-form");
    if (!form || elt === $("label-search") || !(elt === form || form.contains(elt))) return;
    if (elt === form && !ready()) { event.preventDefault(); showHint(true); return; }
    if (elt === form) {
      // The chosen answer is the hidden fields' (htmx would also send the last answer button focused or clicked).
      event.detail.parameters.label = $("answer-label").value;
      event.detail.parameters.flagged = $("answer-flagged").value;
      if ($("answer-spans")) event.detail.parameters.spans = $("answer-spans").value;
    }
    event.detail.parameters.active_seconds = seconds();
  });

  function targetsPanel(event) { var t = event.detail.target; return Boolean(t && t.id === "task-panel"); }
  function setBusy(panel, on) { busy = on; panel.classList.toggle("busy", on); panel.setAttribute("aria-busy", String(on)); }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (targetsPanel(event)) setBusy(event.detail.target, true);
  });
  // Busy ends when the new panel is loaded (htmx wires its buttons only then), or now if nothing will be swapped.
  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    if (!targetsPanel(event) || event.detail.successful || (xhr && xhr.status === 400)) return;
    setBusy(event.detail.target, false);
    showHint(true, "The server did not answer. Please try again.");
  });
  // A refused answer comes back as a 400 with the panel and its error: show it (htmx skips 4xx bodies).
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (targetsPanel(event) && event.detail.xhr.status === 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // After settling: htmx restores the class of elements whose id was already on the page.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target, search = $("label-search");
    if (targetsPanel(event)) busy = false; // also when the response was not a panel (e.g. a login page)
    if (!target || target.id !== "label-results") return;
    loadedQuery = new URL(event.detail.xhr.responseURL).searchParams.get("q") || "";
    // Results for an older query (the user kept typing) are shown but never picked by a queued Enter.
    var fresh = search && search.value === loadedQuery;
    setHighlight(fresh && loadedQuery.trim() && options().length ? 0 : -1);
    if (fresh && enterQueued && highlight >= 0) pickFromResults(options()[highlight]);
    if (fresh) enterQueued = false;
  });

  document.addEventListener("htmx:load", function (event) {
    var panel = (event.detail && event.detail.elt) || event.target;
    if (panel && panel.id === "task-panel") newPanel(panel, true);
  });

  function newPanel(panel, swapped) {
    var id = panel.getAttribute("data-task-id"), search = $("label-search");
    // A refused answer re-renders the same task: its time keeps running.
    if (id !== taskId) { activeSeconds = 0; lastTick = performance.now(); markActive(); }
    taskId = id; busy = false;
    panel.setAttribute("data-ready", "true"); // browser tests wait for #task-panel[data-ready]
    highlight = -1; loadedQuery = ""; enterQueued = false;
    if (search) search.value = "";
    if (window.ShelfmarkSpans) window.ShelfmarkSpans.init(panel);
    var counts = panel.getAttribute("data-submitted") + " labeled · " + panel.getAttribute("data-skipped") + " skipped";
    document.title = counts + " · " + panel.getAttribute("data-dataset") + " · Shelfmark";
    if (!swapped) return;
    var error = panel.querySelector(".error");
    announce(error ? error.textContent : (id ? "Next task. " : "Nothing left to label. ") + counts);
    if (panel.getBoundingClientRect().top < 0) panel.scrollIntoView();
    focusPanel();
  }

  if ($("task-panel")) newPanel($("task-panel"), false);
})();
