/* newsmap on phone-sized screens (fetched by newsmap.js when the window is 600 px wide or less): a
 * place's details open in a sheet along the bottom of the screen, not in a popup, so its title, its
 * close button and its first quote are in sight whatever the map's height. The sheet scrolls, the
 * quotes inside it do not; the map pans the marker above it. */
(function () {
  "use strict";

  var nm = window.newsmap;
  var map = nm.map, element = nm.element, HIT = nm.hit;
  var sheet = null;
  var openId = null;

  nm.adoptStyle([
    ".nm-sheet{position:fixed;left:0;right:0;bottom:0;z-index:1200;max-height:50vh;display:flex;flex-direction:column;",
    "background:#fff;border-top:1px solid var(--rule);border-radius:.8rem .8rem 0 0;box-shadow:0 -4px 16px rgba(0,0,0,.2)}",
    ".nm-sheet[hidden]{display:none}",
    ".nm-sheet-close{position:absolute;right:.3rem;top:.3rem;width:44px;height:44px;font-size:1.6rem;line-height:1;",
    "background:none;border:0;color:var(--muted);cursor:pointer;border-radius:50%}",
    ".nm-sheet-close:focus-visible{outline:3px solid #111}",
    ".nm-sheet-body{overflow-y:auto;padding:.8rem 3.2rem .8rem 1rem;overscroll-behavior:contain}",
    ".nm-sheet .nm-popup{max-width:none}",
    ".nm-sheet .nm-popup button{min-height:44px}",
    ".nm-sheet-open .leaflet-bottom{visibility:hidden}"
  ].join(""));

  function make() {
    sheet = element("section", "nm-sheet");
    sheet.setAttribute("role", "dialog");
    sheet.setAttribute("aria-labelledby", "nm-popup-title");
    sheet.hidden = true;
    var close = element("button", "nm-sheet-close", "×");
    close.type = "button";
    close.setAttribute("aria-label", "Close");
    close.addEventListener("click", function () {
      nm.closeDetails();
      nm.returnFocus();
    });
    sheet.appendChild(close);
    sheet.appendChild(element("div", "nm-sheet-body"));
    document.body.appendChild(sheet);
  }

  /* The marker stays in sight above the sheet: the map pans it up if the sheet would cover it. */
  function keepAbove(marker) {
    var icon = marker.getElement();
    if (!icon) {
      return;
    }
    var box = icon.getBoundingClientRect();
    var mapBox = map.getContainer().getBoundingClientRect();
    var limit = Math.min(sheet.getBoundingClientRect().top, mapBox.bottom) - HIT;
    var top = Math.max(mapBox.top, 0) + HIT;
    var y = box.top + box.height / 2;
    if (y > limit || y < top) {
      map.panBy([0, y - (top + Math.max(0, limit - top) / 2)], { animate: !nm.reduceMotion });
    }
  }

  function open(id, focus) {
    if (!sheet) {
      make();
    }
    var body = sheet.querySelector(".nm-sheet-body");
    body.replaceChildren(nm.popupContent(nm.places[id]));
    body.scrollTop = 0;
    sheet.hidden = false;
    map.getContainer().classList.add("nm-sheet-open");  /* the scale and credits it covers are out of the way */
    openId = id;
    nm.setActive(id);
    keepAbove(nm.registry.markers[id]);
    if (focus) {
      document.getElementById("nm-popup-title").focus({ preventScroll: true });
    }
  }

  /* Whether there was a sheet to close. */
  function close() {
    if (!sheet || sheet.hidden) {
      return false;
    }
    sheet.hidden = true;
    map.getContainer().classList.remove("nm-sheet-open");
    openId = null;
    return true;
  }

  window.newsmapSheet = { open: open, close: close, openId: function () { return openId; } };
}());
