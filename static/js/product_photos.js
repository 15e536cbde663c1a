/* Product photos on every page that shows products: a photo that fails to load becomes a placeholder, and a
   photo's button opens it large in a modal <dialog> (Esc, the close button or a click outside the photo closes
   it, and focus goes back to the photo). Keys pressed inside the dialog never reach the page's shortcuts. */
(function () {
  "use strict";

  var dialog = null, opener = null;

  function markBroken(img) {
    var button = img.closest(".photo-zoom");
    if (!button || button.classList.contains("broken")) return;
    button.classList.add("broken");
    button.disabled = true; // nothing to enlarge
    button.setAttribute("aria-label", "Photo unavailable");
  }

  // Error events do not bubble: listen in the capture phase, which also covers panels swapped in by htmx.
  document.addEventListener("error", function (event) {
    var img = event.target;
    if (img && img.classList && img.classList.contains("product-photo")) markBroken(img);
  }, true);

  // Photos that failed before this deferred script ran.
  function checkLoaded(root) {
    root.querySelectorAll("img.product-photo").forEach(function (img) {
      if (img.complete && img.naturalWidth === 0 && img.getAttribute("src")) markBroken(img);
    });
  }

  function build() {
    dialog = document.createElement("dialog");
    dialog.className = "photo-dialog";
    dialog.id = "photo-dialog";
    dialog.setAttribute("aria-label", "Enlarged photo");
    var close = document.createElement("button");
    close.type = "button";
    close.className = "photo-dialog-close";
    close.id = "photo-dialog-close";
    close.textContent = "Close (Esc)";
    var img = document.createElement("img");
    img.className = "photo-dialog-image";
    img.alt = "";
    img.referrerPolicy = "no-referrer";
    dialog.appendChild(close);
    dialog.appendChild(img);
    document.body.appendChild(dialog);
    close.addEventListener("click", function () { dialog.close(); });
    // A click on the backdrop lands on the dialog itself; one on the photo or the button does not.
    dialog.addEventListener("click", function (event) { if (event.target === dialog) dialog.close(); });
    dialog.addEventListener("keydown", function (event) { event.stopPropagation(); });
    dialog.addEventListener("close", function () {
      if (opener && document.contains(opener)) opener.focus();
      opener = null;
    });
  }

  function open(button) {
    if (!dialog) build();
    opener = button;
    var img = dialog.querySelector(".photo-dialog-image");
    img.src = button.getAttribute("data-zoom-src");
    img.alt = button.getAttribute("aria-label").replace(/^Enlarge /, "");
    dialog.showModal();
    dialog.querySelector(".photo-dialog-close").focus();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".photo-zoom");
    if (!button || button.disabled) return;
    event.preventDefault();
    open(button);
  });

  document.addEventListener("htmx:load", function (event) { if (event.target && event.target.querySelectorAll) checkLoaded(event.target); });
  checkLoaded(document);
})();
