/* The span editor of the annotate page (kind "spans"): a cursor on the tokens, a selection, typed spans and the
   model's dashed suggestions. The answer is #answer-spans: [[token_start, token_end_inclusive, label_id], ...].
   annotate.js hands it the keys first (ShelfmarkSpans.key) and a new panel after each swap (ShelfmarkSpans.init);
   the review page (review.js) too, while its reviewer edits, and the answer chosen to mend (ShelfmarkSpans.set). */
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var ed = null; // the editor of the current panel; null where the panel has no tokens

  function readJSON(id) { var node = $(id); return node ? JSON.parse(node.textContent) : []; }

  function init(panel) {
    var root = (panel || document).querySelector("#span-tokens");
    ed = null;
    if (!root) return;
    var tokens = {}, words = [];
    Array.prototype.forEach.call(root.querySelectorAll("[data-i]"), function (el) {
      var i = Number(el.getAttribute("data-i")), space = el.classList.contains("space");
      tokens[i] = { el: el, text: el.textContent, space: space, ws: !space && Boolean(el.nextSibling && el.nextSibling.nodeType === 3) };
      if (!space) words.push(i);
    });
    var types = {};
    Array.prototype.forEach.call(document.querySelectorAll("#span-types [data-span-type]"), function (button) {
      var type = { id: Number(button.getAttribute("data-span-type")), name: button.getAttribute("data-name"),
                   key: button.getAttribute("data-key"), color: button.getAttribute("data-color"), button: button };
      types[type.id] = type;
      if (type.color) button.style.setProperty("--span-color", type.color);
    });
    var spans = readJSON("span-given-data").map(function (s) { return { start: s.start, end: s.end, label: s.label_id }; });
    // A suggestion the annotator already took (an Undo reopened the task) is not offered again.
    var suggestions = readJSON("span-suggested-data").filter(function (s) {
      return !spans.some(function (t) { return same(t, { start: s.start, end: s.end, label: s.label_id }); });
    }).map(function (s) { return { start: s.start, end: s.end, label: s.label_id, probability: s.probability }; });
    ed = { root: root, tokens: tokens, words: words, types: types, spans: spans, suggestions: suggestions,
           cursor: words.length ? words[0] : null, anchor: null, selection: null, dragging: false };
    message("");
    render();
  }

  /* State */
  function same(a, b) { return a.start === b.start && a.end === b.end && a.label === b.label; }
  function overlaps(a, b) { return a.start <= b.end && b.start <= a.end; }
  function spanAt(list, i) { for (var n = 0; n < list.length; n++) if (list[n].start <= i && i <= list[n].end) return list[n]; return null; }
  function typeName(label) { return ed.types[label] ? ed.types[label].name : "label " + label; }
  function textOf(span) {
    var parts = [];
    for (var i = span.start; i <= span.end; i++) {
      var t = ed.tokens[i];
      if (!t) continue;
      parts.push(t.space ? " " : t.text + (t.ws && i < span.end ? " " : ""));
    }
    return '"' + parts.join("").replace(/\s+/g, " ").trim() + '"';
  }
  function byStart(a, b) { return a.start - b.start || a.end - b.end; }

  // The selection, or the cursor's word: never starting or ending on whitespace.
  function target() {
    var range = ed.selection || (ed.cursor === null ? null : { start: ed.cursor, end: ed.cursor });
    if (!range) return null;
    var start = range.start, end = range.end;
    while (start <= end && (!ed.tokens[start] || ed.tokens[start].space)) start++;
    while (end >= start && (!ed.tokens[end] || ed.tokens[end].space)) end--;
    return start <= end ? { start: start, end: end } : null;
  }

  function give(label) {
    var range = target(), type = ed.types[label];
    if (!range || !type) return;
    var span = { start: range.start, end: range.end, label: label };
    var clash = ed.spans.filter(function (s) { return overlaps(s, span); })[0];
    if (clash) {
      message(textOf(clash) + " is already " + typeName(clash.label) + ": remove it first (Backspace)");
      return;
    }
    ed.spans.push(span);
    ed.suggestions = ed.suggestions.filter(function (s) { return !same(s, span); });
    ed.selection = null; ed.anchor = null;
    message("");
    announce(textOf(span) + " marked " + type.name);
    render();
  }

  function remove() {
    var span = spanAt(ed.spans, ed.cursor), suggestion = spanAt(ed.suggestions, ed.cursor);
    if (span) {
      ed.spans = ed.spans.filter(function (s) { return s !== span; });
      announce("Removed " + typeName(span.label) + " " + textOf(span));
    } else if (suggestion) {
      ed.suggestions = ed.suggestions.filter(function (s) { return s !== suggestion; });
      announce("Dismissed the suggestion " + typeName(suggestion.label) + " " + textOf(suggestion));
    } else {
      message("No span under the cursor to remove.");
      return;
    }
    message("");
    render();
  }

  function accept(list) {
    var taken = 0, left = [];
    list.slice().sort(byStart).forEach(function (s) {
      if (ed.spans.some(function (t) { return same(t, s); })) return;
      if (ed.spans.some(function (t) { return overlaps(t, s); })) { left.push(s); return; }
      ed.spans.push({ start: s.start, end: s.end, label: s.label });
      taken++;
    });
    ed.suggestions = left;
    var text = taken ? "Accepted " + taken + (taken === 1 ? " suggestion" : " suggestions") : "No suggestion accepted";
    if (left.length) text += "; " + left.length + " left out: " + (left.length === 1 ? "it overlaps" : "they overlap") + " a span of yours";
    message(left.length ? text + "." : "");
    announce(text + ".");
    render();
  }

  function acceptOne(suggestion) {
    var others = ed.suggestions.filter(function (s) { return s !== suggestion; });
    accept([suggestion]);
    ed.suggestions = others.concat(ed.suggestions);
    render();
  }

  /* Cursor and selection */
  function place(i, extend) {
    if (i === null || i === undefined) return;
    if (extend) {
      if (ed.anchor === null) ed.anchor = ed.cursor;
      ed.selection = { start: Math.min(ed.anchor, i), end: Math.max(ed.anchor, i) };
    } else {
      ed.anchor = null; ed.selection = null;
    }
    ed.cursor = i;
    render();
    var span = spanAt(ed.spans, i);
    announce(ed.tokens[i].text + (span ? ", " + typeName(span.label) : "") +
             (ed.selection && ed.selection.start !== ed.selection.end ? ", selected " + textOf(ed.selection) : ""));
  }

  function step(delta) {
    var at = ed.words.indexOf(ed.cursor), next = ed.words[at + delta];
    return next === undefined ? ed.cursor : next;
  }

  /* Showing the state */
  function render() {
    var selection = ed.selection;
    Object.keys(ed.tokens).forEach(function (key) {
      var i = Number(key), t = ed.tokens[i], el = t.el;
      var span = spanAt(ed.spans, i), suggestion = spanAt(ed.suggestions, i);
      el.classList.toggle("cursor", i === ed.cursor);
      if (i === ed.cursor) el.setAttribute("aria-current", "true"); else el.removeAttribute("aria-current");
      el.classList.toggle("selected", Boolean(selection) && !t.space && selection.start <= i && i <= selection.end);
      el.classList.toggle("suggested", Boolean(suggestion));
      mark(el, span, "span");
      mark(el, span ? null : suggestion, "suggest");
      if (span || suggestion) color(el, (span || suggestion).label); else el.style.removeProperty("--span-color");
      if (suggestion) {
        var p = suggestion.probability;
        el.title = typeName(suggestion.label) + " suggested" + (p === null || p === undefined ? "" : ", " + Math.round(p * 100) + "%") + ": click to accept";
      } else {
        el.removeAttribute("title");
      }
      if (span) el.setAttribute("data-span-label", String(span.label)); else el.removeAttribute("data-span-label");
      if (suggestion) el.setAttribute("data-suggested-label", String(suggestion.label)); else el.removeAttribute("data-suggested-label");
    });
    var ordered = ed.spans.slice().sort(byStart);
    var input = $("answer-spans");
    if (input) input.value = JSON.stringify(ordered.map(function (s) { return [s.start, s.end, s.label]; }));
    var list = $("span-list");
    if (list) {
      list.textContent = "";
      ordered.forEach(function (s) {
        var item = document.createElement("li"), name = document.createElement("strong");
        name.textContent = typeName(s.label);
        color(name, s.label);
        item.appendChild(name);
        item.appendChild(document.createTextNode(" " + textOf(s)));
        list.appendChild(item);
      });
      if (!ordered.length) { var none = document.createElement("li"); none.className = "muted"; none.textContent = "Nothing yet: submitting says the text has no attribute."; list.appendChild(none); }
    }
  }

  // A span's edges, where its border ends and its type's name is shown.
  function mark(el, span, prefix) {
    el.classList.toggle(prefix + "-start", Boolean(span) && span.start === Number(el.getAttribute("data-i")));
    el.classList.toggle(prefix + "-end", Boolean(span) && span.end === Number(el.getAttribute("data-i")));
    if (span && span.end === Number(el.getAttribute("data-i"))) el.setAttribute("data-" + prefix + "-name", typeName(span.label));
    else el.removeAttribute("data-" + prefix + "-name");
  }
  function color(el, label) { var type = ed.types[label]; if (type && type.color) el.style.setProperty("--span-color", type.color); }

  function message(text) { var m = $("span-message"); if (m) m.textContent = text; }
  function announce(text) { var region = $("announcer"); if (region) region.textContent = text; }

  /* Keys: called by annotate.js before its own; true when the editor took the key. */
  function key(event) {
    if (!ed || ed.cursor === null) return false;
    var k = event.key, shift = event.shiftKey, handled = true;
    if (k === "ArrowRight" || k === "ArrowLeft") place(step(k === "ArrowRight" ? 1 : -1), shift);
    else if (k === "Home" || k === "End") place(ed.words[k === "Home" ? 0 : ed.words.length - 1], shift);
    else if (/^[1-9]$/.test(k)) {
      var type = typeFor(k);
      if (type) give(type.id); else handled = false;
    } else if (k === "Backspace" || k === "Delete") remove();
    else if (k === "a" || k === "A") accept(ed.suggestions);
    else if (k === "Escape" && ed.selection) { ed.selection = null; ed.anchor = null; render(); announce("Selection cleared"); }
    else handled = false;
    if (handled) event.preventDefault();
    return handled;
  }
  function typeFor(k) {
    var ids = Object.keys(ed.types);
    for (var n = 0; n < ids.length; n++) if (ed.types[ids[n]].key === k) return ed.types[ids[n]];
    return null;
  }

  /* Mouse: press, drag, release selects; a click on a suggestion accepts it. */
  function wordAt(node) {
    var el = node && node.closest ? node.closest("#span-tokens [data-i]") : null;
    return el && !el.classList.contains("space") ? Number(el.getAttribute("data-i")) : null;
  }

  document.addEventListener("mousedown", function (event) {
    var i = ed && event.button === 0 ? wordAt(event.target) : null;
    if (i === null) return;
    event.preventDefault(); // no text selection of the browser's own
    ed.dragging = true; ed.pressed = i; ed.moved = false;
    ed.anchor = i; ed.cursor = i; ed.selection = { start: i, end: i };
    render();
  });
  document.addEventListener("mouseover", function (event) {
    var i = ed && ed.dragging ? wordAt(event.target) : null;
    if (i === null || i === ed.cursor) return;
    ed.moved = true; ed.cursor = i;
    ed.selection = { start: Math.min(ed.anchor, i), end: Math.max(ed.anchor, i) };
    render();
  });
  document.addEventListener("mouseup", function () {
    if (!ed || !ed.dragging) return;
    ed.dragging = false;
    var suggestion = !ed.moved && !spanAt(ed.spans, ed.pressed) && spanAt(ed.suggestions, ed.pressed);
    if (suggestion) { ed.selection = null; ed.anchor = null; acceptOne(suggestion); return; }
    if (ed.selection) announce("Selected " + textOf(ed.selection) + ": press a type's digit");
  });

  document.addEventListener("click", function (event) {
    var button = ed && event.target.closest ? event.target.closest("#span-types [data-span-type]") : null;
    if (!button) return;
    give(Number(button.getAttribute("data-span-type")));
    var panel = $("task-panel") || $("review-panel");
    if (panel) panel.focus({ preventScroll: true }); // Enter must submit, not press the type button again
  });

  /* The review page: the answer a reviewer chose, [[token_start, token_end, label_id], ...], replaces the spans. */
  function set(list) {
    if (!ed) return;
    ed.spans = list.map(function (s) { return { start: s[0], end: s[1], label: s[2] }; });
    ed.selection = null; ed.anchor = null;
    message("");
    render();
  }

  window.ShelfmarkSpans = { init: init, key: key, set: set };
})();
