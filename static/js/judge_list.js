/* The judge's list mode: one query's products in a grid; arrows move, digits grade the product in focus and move
   on to the next ungraded one, F flags it, Enter confirms the query once each product is graded or flagged.
   The form's radios and checkboxes are the state (the page posts as a plain form too); every swap of
   #query-panel brings a fresh form, so only the focus and the timer are kept here. */
(function () {
  "use strict";

  var IDLE_MS = 60000, TICK_MS = 500; // no key, mouse or scroll for a minute: the judge is away
  var $ = function (id) { return document.getElementById(id); };

  var activeSeconds = 0, lastTick = performance.now(), lastActivity = Date.now(), queryId = null;
  var busy = false, current = 0;

  /* Active time, for the whole query (the server shares it out among its products) */
  function tick() {
    // Timers are throttled or frozen in background tabs: a long gap is never counted whole.
    var now = performance.now(), elapsed = Math.min(now - lastTick, 2 * TICK_MS);
    lastTick = now;
    if (document.visibilityState === "visible" && Date.now() - lastActivity < IDLE_MS) activeSeconds += elapsed / 1000;
  }
  function seconds() { tick(); return (Math.round(activeSeconds * 10) / 10).toFixed(1); }
  function writeSeconds() { var input = $("list-active-seconds"); if (input) input.value = seconds(); }
  setInterval(writeSeconds, TICK_MS);
  ["keydown", "mousedown", "mousemove", "wheel", "scroll", "touchstart", "focusin"].forEach(function (type) {
    document.addEventListener(type, function () { lastActivity = Date.now(); }, { capture: true, passive: true });
  });
  document.addEventListener("visibilitychange", function () { lastTick = performance.now(); lastActivity = Date.now(); });

  /* The grid */
  function items() { return Array.prototype.slice.call(document.querySelectorAll("#judge-grid .judge-item")); }
  function isDone(item) { return Boolean(item.querySelector("input[type=radio]:checked, input[type=checkbox]:checked")); }
  function announce(text) { var region = $("announcer"); if (region) region.textContent = text; }
  function hint(text) { var h = $("list-hint"); if (h) { h.textContent = text || ""; h.hidden = !text; } }

  function refresh() {
    var list = items(), done = list.filter(isDone).length, count = $("graded-count");
    if (count) count.textContent = String(done);
    list.forEach(function (item) {
      var flag = item.querySelector("input[type=checkbox]");
      item.classList.toggle("done", isDone(item));
      item.classList.toggle("flagged", Boolean(flag && flag.checked));
    });
    if (done === list.length) hint("");
  }

  function focusItem(index) {
    var list = items();
    if (!list.length) { var panel = $("query-panel"); if (panel) panel.focus({ preventScroll: true }); return; }
    current = Math.max(0, Math.min(index, list.length - 1));
    list.forEach(function (item, i) { item.classList.toggle("focused", i === current); });
    list[current].focus({ preventScroll: true });
    list[current].scrollIntoView({ block: "nearest" });
  }

  function columns() {
    var list = items();
    var top = list.length ? list[0].offsetTop : 0;
    return Math.max(1, list.filter(function (item) { return item.offsetTop === top; }).length);
  }

  function nextUngraded(from) {
    var list = items();
    for (var step = 1; step <= list.length; step++) {
      var i = (from + step) % list.length;
      if (!isDone(list[i])) return i;
    }
    return -1;
  }

  function grade(key) {
    var item = items()[current];
    var radio = item && item.querySelector('input[type=radio][data-key="' + key + '"]');
    if (!radio) return;
    radio.checked = true;
    refresh();
    var next = nextUngraded(current);
    if (next < 0) { announce("Every product is graded: Enter confirms the query."); focusItem(current); }
    else focusItem(next);
  }

  function toggleFlag() {
    var item = items()[current], flag = item && item.querySelector("input[type=checkbox]");
    if (!flag) return;
    flag.checked = !flag.checked;
    refresh();
    announce(flag.checked ? "Flagged." : "Flag removed.");
  }

  function confirmQuery() {
    var form = $("list-form"), button = $("confirm-button");
    if (!form || busy) return;
    var list = items(), open = list.filter(function (item) { return !isDone(item); });
    if (open.length) {
      hint(open.length + " of " + list.length + " products are not graded yet: grade them, or flag them (F).");
      focusItem(list.indexOf(open[0]));
      return;
    }
    writeSeconds();
    if (form.requestSubmit) form.requestSubmit(button); else button.click();
  }

  function click(id) { var button = $(id); if (button && !busy) { writeSeconds(); button.click(); } }

  function toggleHelp(show) {
    var overlay = $("help-overlay"), button = $("help-button");
    if (!overlay) return;
    overlay.hidden = !show;
    if (button) button.setAttribute("aria-expanded", String(show));
    if (show) $("help-close").focus(); else focusItem(current);
  }

  /* Keys and mouse */
  var MOVES = { ArrowLeft: -1, ArrowRight: 1 };
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    var key = event.key, target = event.target, overlay = $("help-overlay");
    if (overlay && !overlay.hidden) {
      if (key === "Escape" || key === "?") { event.preventDefault(); toggleHelp(false); }
      return;
    }
    if (target.closest && target.closest("textarea, select, [contenteditable], input[type=text], input[type=search]")) return;
    if (key === "?") { event.preventDefault(); toggleHelp(true); return; }
    // Enter on a focused button or link keeps its usual meaning for keyboard users who tabbed there.
    if (key === "Enter" && target.closest && target.closest("button, a, summary")) return;
    var move = key === "ArrowUp" ? -columns() : key === "ArrowDown" ? columns() : MOVES[key];
    if (!move && !/^([1-9]|Enter|[sufSUF])$/.test(key)) return;
    event.preventDefault(); // arrows would also scroll, or change a focused radio
    if (busy) return;
    if (move) focusItem(current + move);
    else if (/^[1-9]$/.test(key)) grade(key);
    else if (key === "Enter") confirmQuery();
    else if (key === "s" || key === "S") click("skip-button");
    else if (key === "u" || key === "U") click("undo-button");
    else toggleFlag();
  });

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : event.target.parentElement;
    var item = target.closest("#judge-grid .judge-item");
    if (item) current = items().indexOf(item);
    if (target.closest("#help-button")) toggleHelp(true);
    else if (target.closest("#help-close") || target.id === "help-overlay") toggleHelp(false);
  });
  document.addEventListener("change", function (event) { if (event.target.closest("#judge-grid")) refresh(); });

  // Without htmx the form posts normally: still refuse an unfinished list and send the time.
  document.addEventListener("submit", function (event) {
    if (event.target.id !== "list-form") return;
    var skipping = event.submitter && event.submitter.id === "skip-button";
    if (!skipping && items().some(function (item) { return !isDone(item); })) { event.preventDefault(); confirmQuery(); return; }
    writeSeconds();
  }, true);

  /* htmx */
  function targetsPanel(event) { var t = event.detail.target; return Boolean(t && t.id === "query-panel"); }
  function setBusy(panel, on) { busy = on; panel.classList.toggle("busy", on); panel.setAttribute("aria-busy", String(on)); }

  document.addEventListener("htmx:configRequest", function (event) {
    var form = $("list-form");
    if (form && form.contains(event.detail.elt)) event.detail.parameters.active_seconds = seconds();
  });
  document.addEventListener("htmx:beforeRequest", function (event) { if (targetsPanel(event)) setBusy(event.detail.target, true); });
  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    if (!targetsPanel(event) || event.detail.successful || (xhr && xhr.status === 400)) return;
    setBusy(event.detail.target, false);
    hint("The server did not answer. Please try again.");
  });
  // A refused confirm comes back as a 400 with the list and its error: show it (htmx skips 4xx bodies).
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (targetsPanel(event) && event.detail.xhr.status === 400) { event.detail.shouldSwap = true; event.detail.isError = false; }
  });
  document.addEventListener("htmx:afterSettle", function (event) { if (targetsPanel(event)) busy = false; });
  document.addEventListener("htmx:load", function (event) {
    var panel = (event.detail && event.detail.elt) || event.target;
    if (panel && panel.id === "query-panel") newPanel(panel, true);
  });

  function newPanel(panel, swapped) {
    var id = panel.getAttribute("data-query-id");
    // A refused confirm shows the same query again: its time keeps running.
    if (id !== queryId) { activeSeconds = 0; lastTick = performance.now(); lastActivity = Date.now(); }
    queryId = id; busy = false;
    refresh();
    var list = items(), first = list.findIndex(function (item) { return !isDone(item); });
    focusItem(first < 0 ? 0 : first);
    panel.setAttribute("data-ready", "true"); // browser tests wait for #query-panel[data-ready]
    var counts = panel.getAttribute("data-submitted") + " judged · " + panel.getAttribute("data-skipped") + " skipped";
    document.title = counts + " · " + panel.getAttribute("data-dataset") + " · Shelfmark";
    if (!swapped) return;
    var error = panel.querySelector("#query-error");
    announce(error ? error.textContent : (id ? "Next query. " : "No query left. ") + counts);
  }

  if ($("query-panel")) newPanel($("query-panel"), false);
})();
