/* The taxonomy tree of the categorization page (#label-tree): a WAI-ARIA tree with one tab stop (roving
   tabindex). Children load once, on first expand (labeling:label-tree), so a 5,595-node taxonomy costs its
   roots only. annotate.js owns the page's keys and calls key() and click() first; they return true when the
   tree took the event. Focus model: only while a tree node has focus do arrows, Home/End, Enter/Space and
   letters (type-ahead, so S/U/F type there) act on the tree; digits, ? and / keep their page meaning, and Esc
   or picking a leaf gives focus back to the task so Enter submits. Inner nodes open and close; any node can
   still be picked through the search. The next task's tree reopens the branch last used. */
(function () {
  "use strict";

  var TYPE_AHEAD_MS = 700;
  var typed = "", typedAt = 0;
  var levels = {};   // the children's markup by URL: a level reopened on the next task costs no request
  var branch = [];   // ids of the open ancestors of the node last focused, then its own: reopened on the next task

  function tree() { return document.getElementById("label-tree"); }
  function nodeOf(el) { return el && el.closest ? el.closest("#label-tree [data-tree-node]") : null; }
  function isInner(node) { return node.hasAttribute("aria-expanded"); }
  function isOpen(node) { return node.getAttribute("aria-expanded") === "true"; }
  function group(node) { return node.querySelector(":scope > ul[role=group]"); }
  function parentNode(node) { return nodeOf(node.parentElement); }
  function name(node) { return node.querySelector(".tree-name").textContent; }

  // The nodes a reader sees, in order: every node whose ancestors are all open.
  function visible() {
    var root = tree();
    if (!root) return [];
    return Array.prototype.filter.call(root.querySelectorAll("[data-tree-node]"), function (node) {
      for (var up = parentNode(node); up; up = parentNode(up)) if (!isOpen(up)) return false;
      return true;
    });
  }

  function focusNode(node) {
    if (!node) return;
    tree().querySelectorAll('[data-tree-node][tabindex="0"]').forEach(function (n) { n.setAttribute("tabindex", "-1"); });
    node.setAttribute("tabindex", "0");
    node.focus();
    branch = [];
    for (var up = node; up; up = parentNode(up)) branch.unshift(up.getAttribute("data-tree-node"));
  }

  // One request per node whatever the keys pressed meanwhile: later callers wait for the same load.
  function load(node) {
    var url = node.getAttribute("data-children-url");
    if (!node.shelfmarkLoad) {
      node.shelfmarkLoad = !url || !window.htmx ? Promise.resolve() : loadChildren(node, url);
    }
    return node.shelfmarkLoad;
  }
  function loadChildren(node, url) {
    if (levels[url]) { group(node).innerHTML = levels[url]; return Promise.resolve(); }
    node.setAttribute("aria-busy", "true");
    return window.htmx.ajax("GET", url, { target: group(node), swap: "innerHTML" }).then(function () {
      node.removeAttribute("aria-busy");
      if (group(node).querySelector("[data-tree-node]")) levels[url] = group(node).innerHTML;
    }, function () {
      node.removeAttribute("aria-busy");
      node.shelfmarkLoad = null; // a failed load is tried again on the next expand
    });
  }

  function setOpen(node, open) {
    if (!isInner(node)) return Promise.resolve();
    node.setAttribute("aria-expanded", String(open));
    group(node).hidden = !open;
    return open ? load(node) : Promise.resolve();
  }

  // A leaf is picked; an inner node opens or closes.
  function activate(node, pick) {
    if (!isInner(node)) {
      tree().querySelectorAll('[aria-selected="true"]').forEach(function (n) { n.setAttribute("aria-selected", "false"); });
      node.setAttribute("aria-selected", "true");
      pick(node);
    } else {
      setOpen(node, !isOpen(node));
    }
  }

  function typeAhead(node, letter) {
    var now = Date.now();
    typed = now - typedAt > TYPE_AHEAD_MS ? letter : typed + letter;
    typedAt = now;
    var nodes = visible(), start = nodes.indexOf(node), text = typed.toLowerCase();
    // The same letter again moves on to the next match; more letters refine from the current node.
    var from = typed.length === 1 ? start + 1 : start;
    for (var i = 0; i < nodes.length; i++) {
      var candidate = nodes[(from + i) % nodes.length];
      if (name(candidate).toLowerCase().indexOf(text) === 0) { focusNode(candidate); return; }
    }
  }

  // Keys pressed while a level loads wait for it, in order, so that → → → drills down as typed.
  var queue = null;

  function key(event, pick, leave) {
    var node = nodeOf(event.target), k = event.key, letter = k.length === 1 && /[^\s0-9?\/]/.test(k);
    if (!node || !(letter || /^(Arrow(Up|Down|Left|Right)|Home|End|Enter| |Escape)$/.test(k))) return false;
    event.preventDefault();
    if (queue) {
      enqueue(queue.then(function () {
        var now = nodeOf(document.activeElement);
        return now ? act(now, k, letter, pick, leave) : null;
      }));
    } else {
      var loading = act(node, k, letter, pick, leave);
      if (loading) enqueue(loading);
    }
    return true;
  }
  function enqueue(tail) {
    queue = tail;
    tail.then(function () { if (queue === tail) queue = null; });
  }

  // Acts on one key; returns the promise of a level being loaded, if the key started one.
  function act(node, k, letter, pick, leave) {
    var nodes = visible(), at = nodes.indexOf(node);
    if (!letter) typed = ""; // any other key ends a type-ahead word
    if (k === "ArrowRight" && isInner(node)) {
      if (!isOpen(node)) return setOpen(node, true);
      return load(node).then(function () { focusNode(group(node).querySelector("[data-tree-node]")); });
    }
    if (k === "ArrowDown" || k === "ArrowUp") focusNode(nodes[at + (k === "ArrowDown" ? 1 : -1)]);
    else if (k === "Home" || k === "End") focusNode(nodes[k === "Home" ? 0 : nodes.length - 1]);
    else if (k === "ArrowLeft") {
      if (isOpen(node)) setOpen(node, false); else focusNode(parentNode(node));
    } else if (k === "Enter" || k === " ") activate(node, pick);
    else if (k === "Escape") leave();
    else if (letter) typeAhead(node, k);
    return null;
  }

  function click(target, pick) {
    var node = nodeOf(target);
    if (!node || !target.closest(".tree-row")) return false;
    focusNode(node);
    // The arrow only opens or closes; the name picks a leaf or opens an inner node.
    if (target.closest(".tree-twisty")) setOpen(node, !isOpen(node)); else activate(node, pick);
    return true;
  }

  // T from the page: back to the node last focused (or the first root).
  function focus() {
    var root = tree(), node = root && root.querySelector('[data-tree-node][tabindex="0"]');
    if (!node) return false;
    focusNode(node);
    return true;
  }

  // A new task's tree opens the branch used last and makes its node the tab stop, without taking the focus.
  function restore() {
    var ids = branch.slice(), step = Promise.resolve();
    ids.forEach(function (id, i) {
      step = step.then(function () {
        var node = document.getElementById("tree-node-" + id);
        if (!node) return null;
        if (i === ids.length - 1) {
          tree().querySelectorAll('[data-tree-node][tabindex="0"]').forEach(function (n) { n.setAttribute("tabindex", "-1"); });
          node.setAttribute("tabindex", "0");
          return null;
        }
        return setOpen(node, true);
      });
    });
  }
  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail && event.detail.elt;
    if (elt && elt.id === "task-panel" && tree()) restore();
  });

  window.ShelfmarkTree = { key: key, click: click, focus: focus };
})();
