/* The review page's keys. The form is plain HTML (radios, a checkbox, a text field) and works without
   this script; here keys 1-9 choose, / searches, N notes, G toggles gold, Enter decides, S puts off.
   A span task's decision is the span editor's (span_editor.js): digits choose an answer to start from until the
   reviewer edits (an arrow, Backspace, a click on a word or a type); while editing the editor takes the keys (digits
   give types) and Esc gives the digits back to the answers. N, G, Enter and S work in both. */
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var highlight = -1;
  var editing = false;

  function announce(text) { var region = $("announcer"); if (region) region.textContent = text; }
  function focusPanel() { var panel = $("review-panel"); if (panel) panel.focus({ preventScroll: true }); }

  function choose(id, path) {
    var list = $("review-options"), radio = list && list.querySelector('input[name="label"][value="' + id + '"]');
    if (!list) return;
    if (!radio) {
      // A label found by search joins the options, so the form (and a re-render after an error) carries it.
      var item = document.createElement("li");
      item.innerHTML = '<label class="shortcut review-option search"><input type="radio" name="label" required>' +
        ' <span class="shortcut-path"></span> <span class="kind muted">search</span></label>';
      radio = item.querySelector("input");
      radio.value = id;
      radio.setAttribute("data-label-path", path);
      item.querySelector(".shortcut-path").textContent = path;
      list.appendChild(item);
    }
    radio.checked = true;
    announce("Selected " + path);
  }

  /* Span tasks */
  function spanEditor() { return window.ShelfmarkSpans && $("span-editor") ? window.ShelfmarkSpans : null; }
  function setEditing(on) {
    var editor = $("span-editor");
    editing = Boolean(on && editor);
    if (editor) editor.classList.toggle("editing", editing);
  }
  function chooseAnswer(radio) {
    radio.checked = true;
    spanEditor().set(JSON.parse(radio.value));
    setEditing(false);
    announce("Chosen: " + radio.getAttribute("data-text") + ". Arrows mend it, Enter decides.");
  }
  // True when the key was taken.
  function spanKey(event) {
    var key = event.key;
    if (editing) {
      if (spanEditor().key(event)) return true;
      if (key === "Escape") { setEditing(false); announce("Back to the answers: a digit chooses one."); }
      else if (!/^[1-9]$/.test(key)) return false; // a digit without a type chooses no answer while editing
      event.preventDefault();
      return true;
    }
    if (/^[1-9]$/.test(key)) {
      var radio = document.querySelector('#span-answers input[data-key="' + key + '"]');
      if (radio) chooseAnswer(radio);
      event.preventDefault();
      return true;
    }
    if (/^(ArrowLeft|ArrowRight|Home|End|Backspace|Delete)$/.test(key)) {
      setEditing(true);
      spanEditor().key(event);
      return true;
    }
    return false;
  }

  function submit() {
    var form = $("review-form");
    if (form) form.requestSubmit($("review-submit")); // validation first: a label must be chosen
  }

  /* Search results */
  function options() { return Array.prototype.slice.call(document.querySelectorAll("#label-results [data-label-id]")); }
  function setHighlight(index) {
    var list = options();
    highlight = list.length ? Math.max(-1, Math.min(index, list.length - 1)) : -1;
    list.forEach(function (option, i) {
      option.classList.toggle("highlighted", i === highlight);
      option.setAttribute("aria-selected", String(i === highlight));
    });
    if (highlight >= 0) list[highlight].scrollIntoView({ block: "nearest" });
  }
  function pickResult(option) {
    choose(option.getAttribute("data-label-id"), option.getAttribute("data-label-path"));
    var search = $("label-search");
    if (search) { search.value = ""; search.setAttribute("aria-expanded", "false"); }
    $("label-results").innerHTML = "";
    highlight = -1;
    focusPanel();
  }
  function searchKey(event) {
    var list = options();
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      setHighlight(highlight + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter") {
      event.preventDefault(); // Enter picks a result; it never decides from the search box
      if (list.length) pickResult(list[Math.max(highlight, 0)]);
    } else if (event.key === "Escape") {
      event.preventDefault(); setHighlight(-1); focusPanel();
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing || !$("review-panel")) return;
    var target = event.target, key = event.key;
    if (target.id === "label-search") { searchKey(event); return; }
    if (target.id === "review-note") { if (key === "Escape") focusPanel(); return; } // Enter there submits natively
    if (target.closest && target.closest("textarea, select, [contenteditable], input:not([type=radio]):not([type=checkbox])")) return;
    if (key === "Enter" && target.closest && target.closest("button, a")) return; // a focused control keeps its meaning
    if (spanEditor() && spanKey(event)) return;
    if (/^[1-9]$/.test(key)) {
      var radio = document.querySelector('#review-options input[data-key="' + key + '"]');
      if (radio) choose(radio.value, radio.getAttribute("data-label-path"));
    } else if (key === "Enter") {
      submit();
    } else if (key === "g" || key === "G") {
      var gold = $("review-gold");
      if (!gold) return;
      gold.checked = !gold.checked;
      announce(gold.checked ? "Will be a gold item" : "Not a gold item");
    } else if (key === "s" || key === "S") {
      if ($("review-skip")) $("review-skip").click();
    } else if (key === "n" || key === "N") {
      if ($("review-note")) $("review-note").focus();
    } else if (key === "/") {
      if ($("label-search")) $("label-search").focus();
    } else {
      return;
    }
    event.preventDefault();
  });

  // A click on an answer chooses it; on a word or a type of the editor, starts editing.
  document.addEventListener("change", function (event) {
    var radio = event.target;
    if (spanEditor() && radio.name === "answer" && radio.closest("#span-answers")) { chooseAnswer(radio); focusPanel(); }
  });
  document.addEventListener("mousedown", function (event) {
    if (spanEditor() && event.target.closest && event.target.closest("#span-editor #span-tokens, #span-types")) setEditing(true);
  });

  document.addEventListener("click", function (event) {
    var option = event.target.closest && event.target.closest("#label-results [data-label-id]");
    if (option) pickResult(option);
  });

  document.addEventListener("input", function (event) {
    if (event.target.id === "label-search") { highlight = -1; event.target.setAttribute("aria-expanded", "true"); }
  });

  /* htmx: a refused decision comes back as a 400 with the panel and its error; show it (htmx skips 4xx bodies). */
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "review-panel" && event.detail.xhr.status === 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target && event.detail.target.id === "label-results") {
      var search = $("label-search");
      setHighlight(search && search.value.trim() && options().length ? 0 : -1);
    }
  });

  function ready(panel, swapped) {
    highlight = -1;
    Array.prototype.forEach.call(panel.querySelectorAll("#span-answers [data-color]"), function (el) {
      el.style.setProperty("--span-color", el.getAttribute("data-color"));
    });
    if (window.ShelfmarkSpans) window.ShelfmarkSpans.init(panel);
    setEditing(false);
    panel.setAttribute("data-ready", "true"); // browser tests wait for #review-panel[data-ready]
    if (!swapped) return;
    var error = panel.querySelector(".error"), decided = $("review-decided");
    var next = panel.getAttribute("data-task-id") ? "Next task. " : "Nothing left to review. ";
    announce(error ? error.textContent : (decided ? decided.textContent + ". " : "") + next);
    if (panel.getBoundingClientRect().top < 0) panel.scrollIntoView();
    focusPanel();
  }
  document.addEventListener("htmx:load", function (event) {
    var panel = (event.detail && event.detail.elt) || event.target;
    if (panel && panel.id === "review-panel") ready(panel, true);
  });
  if ($("review-panel")) ready($("review-panel"), false);
})();
