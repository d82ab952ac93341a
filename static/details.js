/* A place's details, fetched by newsmap.js on the reader's first move over or into the page (or at
 * once for a link to a place), so a reader who opens no place never downloads it: what a popup or
 * the phone's sheet shows (the article's sentences that name the place, its point, precision and
 * source), and how a popup is laid out inside the map. Builds on window.newsmap. Every string from
 * the dataset reaches the page through textContent. */
(function () {
  "use strict";

  var nm = window.newsmap;
  var map = nm.map, element = nm.element;
  var embedded = !!nm.data.embed;  /* the embed page (/articles/<slug>/embed), maybe in another site's iframe */
  var PRECISION = {
    facility: "facility (the site itself)",
    settlement: "settlement (placed at the town)",
    region: "region (an approximate centre)",
    country: "country (the country's centre)"
  };

  /* A popup's look, given to the page when this script comes (mapcore.js's adoptStyle): a fixed title
     (Leaflet's close button beside it) over a body that scrolls, at most --nm-popup-max tall (`content`);
     compact where the map is small (a phone held sideways, an embed). */
  window.newsmapCore.adoptStyle([
    ".nm-popup { max-width: 19rem; display: flex; flex-direction: column; max-height: var(--nm-popup-max, none); }",
    ".nm-popup h2 { flex: none; font-size: 1.05rem; margin: 0 0 .15rem; padding-right: 1rem; }",
    ".nm-popup h2:focus { outline: none; }",
    ".nm-popup-body { flex: 1 1 auto; min-height: 0; overflow-y: auto; overscroll-behavior: contain; }",
    ".nm-popup p { margin: .25rem 0; }",
    ".nm-popup .nm-meta, .nm-popup .nm-where, .nm-popup .nm-source { color: var(--muted); font-size: .82rem; }",
    ".nm-popup .nm-quotes { list-style: none; padding: 0; margin: .4rem 0; }",
    ".nm-popup .nm-quotes li { border-left: 3px solid var(--rule); padding: .1rem 0 .2rem .55rem; margin: .35rem 0; }",
    ".nm-popup blockquote { margin: 0; font-size: .88rem; }",
    ".nm-popup button { font: inherit; font-size: .8rem; color: var(--accent); background: none; border: 0; padding: 0; text-decoration: underline; cursor: pointer; }",
    "mark { background: var(--highlight); color: inherit; padding: 0 .1em; }",
    ".leaflet-popup-content { margin: .7rem .9rem; }",
    "@media (max-width: 700px), (max-height: 500px) {",
    ".leaflet-popup-content { margin: .5rem .6rem; }",
    ".nm-popup h2 { font-size: .95rem; }",
    ".nm-popup blockquote { font-size: .82rem; }",
    ".nm-popup .nm-meta, .nm-popup .nm-where, .nm-popup .nm-source, .nm-popup .nm-spelling { font-size: .76rem; }",
    ".nm-popup p { margin: .15rem 0; }",
    ".nm-popup .nm-quotes li { margin: .25rem 0; }",
    "}",
    ".nm-popup .nm-share { display: flex; flex-wrap: wrap; gap: .2rem .8rem; align-items: center; border-top: 1px solid var(--rule); padding-top: .3rem; }",
    ".nm-popup .nm-share-status { color: #1b5e20; font-size: .8rem; }",
    ".nm-popup .share-fallback { font-size: .8rem; }",
    ".nm-popup .nm-corrected { display: block; color: #6a4a00; font-size: .82rem; }",
    ".nm-popup .nm-also-line { font-size: .85rem; font-weight: 600; }"
  ].join(""));

  /* Each sentence that mentions the place, once, in text order, with every mention of it marked:
   * read from the page's own text, where each mention carries its place's id (data-place). */
  function quotes(place) {
    var sentences = [];
    var id = CSS.escape(place.id);
    document.querySelectorAll('[id^="sentence-"] [data-place="' + id + '"], [id^="sentence-"] [data-also~="' + id + '"]').forEach(function (mark) {
      var sentence = mark.closest('[id^="sentence-"]');
      if (sentences.indexOf(sentence) < 0) {
        sentences.push(sentence);
      }
    });
    var list = element("ol", "nm-quotes");
    var shown = {};
    sentences.forEach(function (sentence) {
      var text = sentence.textContent;
      if (shown[text]) {
        return;  /* a headline printed twice is quoted once */
      }
      shown[text] = true;
      var quote = element("blockquote");
      var lang = sentence.closest("[lang]");  /* the article's language, which its text carries */
      if (lang) { quote.lang = lang.lang; }
      sentence.childNodes.forEach(function (node) {
        var own = node.nodeType === 1 && (node.getAttribute("data-place") === place.id ||
          (node.getAttribute("data-also") || "").split(" ").indexOf(place.id) >= 0);
        quote.appendChild(own ? element("mark", null, node.textContent) : document.createTextNode(node.textContent));
      });
      var index = Number(sentence.id.slice("sentence-".length));
      var item = element("li");
      item.appendChild(quote);
      if (!embedded) {  /* the embed page has no article to show it in */
        var show = element("button", "nm-show", "Show in article");
        show.type = "button";
        show.addEventListener("click", function () {
          nm.showSentence(index);
        });
        item.appendChild(show);
      }
      list.appendChild(item);
    });
    return list;
  }

  /* A place's details: its title, fixed (with a popup's close button beside it), over a body that
   * scrolls when the map leaves it less room than it needs (--nm-popup-max, see fitPopup). */
  function popupContent(place) {
    var box = element("div", "nm-popup");
    var title = element("h2", null, place.shown);
    title.id = "nm-popup-title";
    title.tabIndex = -1;
    box.setAttribute("role", "group");
    box.setAttribute("aria-labelledby", title.id);
    box.appendChild(title);
    var root = box.appendChild(element("div", "nm-popup-body"));
    if (embedded) {  /* no buttons in it to reach it by: the body itself takes focus, to scroll it by keyboard */
      root.tabIndex = 0;
      root.setAttribute("aria-label", "What the article says");
    }
    /* The article's spelling is the title; the name it has on the map (the gazetteer's, or the one an
       editor gave it), or the article's phrase, beside it. */
    var named = place.named === "editor" ? "Named by an editor: " : "In the gazetteer: ";
    root.appendChild(element("p", "nm-spelling", place.shown !== place.name
      ? named + place.name
      : "In the article: “" + place.article_name + "”"));
    root.appendChild(element("p", "nm-meta", [place.kind, place.status, place.category].filter(Boolean).join(" · ")));
    root.appendChild(quotes(place));
    var where = place.lat.toFixed(5) + ", " + place.lon.toFixed(5) + (place.context ? " · " + place.context : "");
    root.appendChild(element("p", "nm-where", where));
    root.appendChild(element("p", "nm-where", "Precision: " + (PRECISION[place.precision] || place.precision)));
    var source = element("p", "nm-source", "Source: " + (place.source === undefined ? "…" : place.source));
    root.appendChild(source);
    if (place.source === undefined) {
      nm.loadSources().then(function () {
        source.textContent = "Source: " + place.source;
      }, function () {
        source.textContent = "Source: not loaded (offline?); the downloads carry it.";
      }).then(function () {
        /* A popup grows upwards: lay it out and pan it into view again. Not popup.update(), which
         * would build the content anew (and lose the focus a keyboard reader has in it). */
        var popup = nm.registry.markers[place.id] && nm.registry.markers[place.id].getPopup();
        if (popup && popup.isOpen() && popup.getElement().contains(source) && popup._updateLayout) {
          popup._updateLayout();
          popup._updatePosition();
          fitPopup();
        }
      });
    }
    if (place.corrected) {
      var by = place.corrected;
      root.appendChild(element("p", "nm-corrected", "Corrected by " + by.by + " on " + by.at + (by.note ? ": " + by.note : "")));
    }
    if (place.also && !embedded) {  /* other articles name it too: its page across the library */
      var also = root.appendChild(element("p", "nm-also-line")).appendChild(element("a", "nm-also", place.also.label));
      also.href = place.also.url;
    }
    nm.hooks.popup.forEach(function (hook) { hook(place, root); });
    return box;
  }

  /* ---------------------------------------------------------------- popups laid out inside the map
   * Leaflet's own auto-pan knows only the map's edges: a popup could open under the zoom buttons,
   * "Show all places", the legend or a notice, or taller than the map. Here a popup is as tall as the
   * map leaves between the controls above and below it (its body scrolls beyond), as wide as the map
   * allows, and once open the map pans it, with its marker, inside the map and clear of them all. */

  var EDGE = 8, BELOW = 38;  /* px kept free at the map's edges; the tip and the marker under a popup */
  var shownPopup = null;

  /* The map's size, the boxes of its controls and notices (in the map's pixels, with a margin), how
   * far down those at the top reach and how far up those at the bottom, and the height a popup may take. */
  function freeSpace() {
    var box = map.getContainer().getBoundingClientRect(), size = map.getSize();
    var space = { size: size, rects: [], top: 0, bottom: 0 };
    document.querySelectorAll(".leaflet-control, .nm-notice, .legend").forEach(function (node) {
      var r = node.getBoundingClientRect();
      if (r.width && r.height && r.right > box.left && r.left < box.right && r.bottom > box.top && r.top < box.bottom) {
        var o = { l: r.left - box.left - 4, t: r.top - box.top - 4, r: r.right - box.left + 4, b: r.bottom - box.top + 4 };
        space.rects.push(o);
        if (o.t + o.b < size.y) {
          space.top = Math.max(space.top, o.b);
        } else {
          space.bottom = Math.max(space.bottom, size.y - o.t);
        }
      }
    });
    space.height = size.y - space.top - space.bottom - 2 * EDGE - BELOW;
    return space;
  }

  /* The smallest pan that puts the open popup (and its marker below it) inside the map, overlapping
   * no control or notice: tried against the map's edges and each control's sides. */
  function fitPopup(popup) {
    shownPopup = popup || shownPopup;  /* one opened before this script came (showing "…") is named */
    if (!shownPopup || !shownPopup.isOpen() || (nm.flight && Date.now() < nm.flight.until)) {
      return;  /* none open, or the map is still flying to it: a pan now would throw the flight off course */
    }
    var space = freeSpace(), size = space.size, box = map.getContainer().getBoundingClientRect();
    var r = shownPopup.getElement().getBoundingClientRect();
    if (!r.width) {
      return;  /* not drawn (printing) */
    }
    var p = { l: r.left - box.left, t: r.top - box.top, r: r.right - box.left, b: r.bottom - box.top + BELOW };
    function fits(x, y) {
      return p.l + x >= EDGE && p.t + y >= EDGE && p.r + x <= size.x - EDGE && p.b + y <= size.y - EDGE &&
        space.rects.every(function (o) { return p.r + x <= o.l || p.l + x >= o.r || p.b + y <= o.t || p.t + y >= o.b; });
    }
    var xs = [0, EDGE - p.l, size.x - EDGE - p.r], ys = [0, EDGE - p.t, size.y - EDGE - p.b];
    space.rects.forEach(function (o) {
      xs.push(o.r - p.l, o.l - p.r);
      ys.push(o.b - p.t, o.t - p.b);
    });
    var best = null;
    xs.forEach(function (x) {
      ys.forEach(function (y) {
        if (fits(x, y) && (!best || Math.hypot(x, y) < Math.hypot(best[0], best[1]))) {
          best = [x, y];
        }
      });
    });
    /* Taller than the room (a tiny map): its header below the controls at the top, at least. */
    best = best || [Math.max(Math.min(0, size.x - EDGE - p.r), EDGE - p.l), space.top + EDGE - p.t];
    if (Math.abs(best[0]) > 1 || Math.abs(best[1]) > 1) {
      map.panBy([-best[0], -best[1]], { animate: false });  /* at once: a move under way (a flight, a drag) would cut a pan short */
    }
  }

  /* A place's popup, made as Leaflet lays it out: its width and its height from the room the map has now. */
  function content(place, marker) {
    var space = freeSpace(), popup = marker.getPopup();
    popup.options.maxWidth = Math.min(320, space.size.x - 2 * EDGE - 24);
    popup.options.minWidth = Math.min(200, popup.options.maxWidth);
    var box = popupContent(place);
    box.style.setProperty("--nm-popup-max", Math.max(140, space.height - 26) + "px");
    return box;
  }
  map.on("popupopen", function (event) {
    shownPopup = event.popup;
    fitPopup();
  });
  /* openPlace's flight (nm.flight) has arrived (other moves may end before it), or is given up on: a
   * popup opened on the way is laid out where it ended. Checked at once too: it may have ended before
   * this script came. */
  function arrived() {
    var flight = nm.flight, size = map.getSize();
    if (flight && ((map.getZoom() === flight.zoom && map.latLngToContainerPoint(flight.to).distanceTo([size.x / 2, size.y / 2]) < 2) ||
        Date.now() > flight.until)) {
      nm.flight = null;
      fitPopup();
    }
  }
  map.on("zoomend moveend", arrived);
  arrived();
  map.on("popupclose", function (event) {
    if (shownPopup === event.popup) {
      shownPopup = null;
    }
  });

  window.newsmapDetails = { content: content, popupContent: popupContent, fit: fitPopup };
}());
