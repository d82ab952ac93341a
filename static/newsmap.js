/* newsmap: links the article, the places list and the Folium map both ways.
 *
 * Every string from the dataset reaches the page through textContent or setAttribute, never
 * through innerHTML, so names and quotes are shown as text whatever they contain. The markers
 * come from folium; window.newsmapRegistry (emitted last by the page) maps place ids to them.
 */
(function () {
  "use strict";

  var registry = window.newsmapRegistry;
  var dataElement = document.getElementById("newsmap-data");
  if (!registry || !dataElement || !window.L) {
    return;
  }
  var data = JSON.parse(dataElement.textContent);
  var map = registry.map;
  var places = {};
  data.places.forEach(function (place) {
    places[place.id] = place;
  });
  var statusLine = document.querySelector(".map-status");
  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var narrow = window.matchMedia ? window.matchMedia("(max-width: 700px)") : { matches: false };
  var PRECISION = {
    facility: "facility (the site itself)",
    settlement: "settlement (placed at the town)",
    region: "region (an approximate centre)",
    country: "country (the country's centre)"
  };
  var activeId = null;
  var returnFocusTo = null;
  var hooks = { popup: [] };  /* the editing page's script adds its controls to popups here */

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = text;
    }
    return node;
  }

  function sentenceText(index) {
    var sentence = document.getElementById("sentence-" + index);
    return sentence ? sentence.textContent : "";
  }

  /* Each sentence that mentions the place, once, with every mention of it marked. */
  function quotes(place) {
    var bySentence = [];
    var seen = {};
    place.mentions.forEach(function (mention) {
      if (!(mention[0] in seen)) {
        seen[mention[0]] = bySentence.length;
        bySentence.push({ index: mention[0], spans: [] });
      }
      bySentence[seen[mention[0]]].spans.push([mention[1], mention[2]]);
    });
    var list = element("ol", "nm-quotes");
    var shown = {};
    bySentence.forEach(function (entry) {
      var text = sentenceText(entry.index);
      if (shown[text]) {
        return;  /* a headline printed twice is quoted once */
      }
      shown[text] = true;
      var quote = element("blockquote");
      var cursor = 0;
      entry.spans.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
      entry.spans.forEach(function (span) {
        var start = Math.max(span[0], cursor);
        if (span[1] <= start) {
          return;
        }
        quote.appendChild(document.createTextNode(text.slice(cursor, start)));
        quote.appendChild(element("mark", null, text.slice(start, span[1])));
        cursor = span[1];
      });
      quote.appendChild(document.createTextNode(text.slice(cursor)));
      var item = element("li");
      item.appendChild(quote);
      var show = element("button", "nm-show", "Show in article");
      show.type = "button";
      show.addEventListener("click", function () {
        showSentence(entry.index);
      });
      item.appendChild(show);
      list.appendChild(item);
    });
    return list;
  }

  function popupContent(place) {
    var root = element("div", "nm-popup");
    var title = element("h2", null, place.shown);
    title.id = "nm-popup-title";
    title.tabIndex = -1;
    root.setAttribute("role", "group");
    root.setAttribute("aria-labelledby", title.id);
    root.appendChild(title);
    /* The article's spelling is the title; the gazetteer's name, or the article's phrase, beside it. */
    root.appendChild(element("p", "nm-spelling", place.shown !== place.name
      ? "In the gazetteer: " + place.name
      : "In the article: “" + place.article_name + "”"));
    root.appendChild(element("p", "nm-meta", [place.kind, place.status, place.category].filter(Boolean).join(" · ")));
    root.appendChild(quotes(place));
    var where = place.lat.toFixed(5) + ", " + place.lon.toFixed(5) + (place.context ? " · " + place.context : "");
    root.appendChild(element("p", "nm-where", where));
    root.appendChild(element("p", "nm-where", "Precision: " + (PRECISION[place.precision] || place.precision)));
    root.appendChild(element("p", "nm-source", "Source: " + place.source));
    if (place.corrected) {
      var by = place.corrected;
      root.appendChild(element("p", "nm-corrected", "Corrected by " + by.by + " on " + by.at + (by.note ? ": " + by.note : "")));
    }
    hooks.popup.forEach(function (hook) { hook(place, root); });
    return root;
  }

  /* Markers: a label and a title for assistive tech, rebuilt whenever Leaflet re-creates the icon. */
  function decorate(place, marker) {
    var icon = marker.getElement();
    if (!icon) {
      return;
    }
    icon.setAttribute("aria-label", place.shown + ", " + place.kind + " (" + place.category + ")");
    icon.setAttribute("title", place.shown);
    icon.setAttribute("data-place", place.id);
    icon.classList.toggle("is-active", place.id === activeId);
  }

  Object.keys(registry.markers).forEach(function (id) {
    var place = places[id];
    var marker = registry.markers[id];
    if (!place) {
      return;
    }
    marker.bindTooltip(element("span", null, place.shown), { direction: "top", offset: [0, -10] });
    marker.bindPopup(function () { return popupContent(place); }, { maxWidth: 320, autoPanPadding: [24, 24] });
    marker.on("add", function () { decorate(place, marker); });
    marker.on("click", function () {
      returnFocusTo = marker.getElement();
      setHash(id);
    });
    marker.on("popupopen", function () { setActive(id); });
    marker.on("popupclose", function () {
      if (activeId === id) {
        setActive(null);
      }
    });
    decorate(place, marker);
  });

  function setActive(id) {
    activeId = id;
    document.querySelectorAll(".is-active").forEach(function (node) {
      node.classList.remove("is-active");
    });
    document.querySelectorAll(".place-link[aria-current]").forEach(function (node) {
      node.removeAttribute("aria-current");
    });
    if (!id) {
      return;
    }
    document.querySelectorAll('[data-place="' + CSS.escape(id) + '"]').forEach(function (node) {
      node.classList.add("is-active");
    });
    var item = document.getElementById("place-" + id);
    if (item) {
      item.classList.add("is-active");
      item.querySelector(".place-link").setAttribute("aria-current", "true");
    }
  }

  function setHash(id) {
    if (hashId() !== id) {
      history.pushState(null, "", "#" + encodeURIComponent(id));
    }
  }

  /* Fly to a place and open its popup; `focus` moves keyboard focus into the popup. */
  function openPlace(id, focus) {
    var place = places[id];
    var marker = registry.markers[id];
    if (!place || !marker) {
      return false;
    }
    if (id === activeId && marker.isPopupOpen()) {
      return true;
    }
    map.closePopup();  /* no stale popup while the map flies to the next place */
    var group = registry.groups[place.cat];
    if (group && !map.hasLayer(group)) {
      group.addTo(map);
      var box = document.querySelector('.legend input[data-category="' + place.cat + '"]');
      if (box) {
        box.checked = true;
      }
    }
    if (narrow.matches) {
      document.querySelector(".map-panel").scrollIntoView({ behavior: reduceMotion ? "auto" : "smooth" });
    }
    var opened = false;
    function open() {
      if (opened) {
        return;
      }
      opened = true;
      marker.openPopup();
      if (focus) {
        var title = document.getElementById("nm-popup-title");
        if (title) {
          title.focus({ preventScroll: true });
        }
      }
    }
    var zoom = data.zoom[place.precision] || map.getZoom();
    map.once("moveend", open);
    map.flyTo(marker.getLatLng(), zoom, { animate: !reduceMotion, duration: 0.7 });
    window.setTimeout(open, reduceMotion ? 50 : 900);
    return true;
  }

  function showSentence(index) {
    var sentence = document.getElementById("sentence-" + index);
    if (!sentence) {
      return;
    }
    document.querySelectorAll(".sentence.is-highlighted").forEach(function (node) {
      node.classList.remove("is-highlighted");
    });
    sentence.classList.add("is-highlighted");
    sentence.scrollIntoView({ behavior: reduceMotion ? "auto" : "smooth", block: "center" });
    sentence.focus({ preventScroll: true });
  }

  function hashId() {
    try {
      return decodeURIComponent(location.hash.slice(1));
    } catch (error) {
      return "";  /* a malformed %-escape in a hand-typed URL */
    }
  }

  function fromHash() {
    var id = hashId();
    if (id && places[id]) {
      openPlace(id, false);
    } else if (!id) {
      map.closePopup();
    } else if (location.pathname === "/") {
      followOldLink(id);
    }
  }

  /* "/#<id>" links were made when "/" was the only article: send them to the article that has the place. */
  function followOldLink(id) {
    fetch(data.oldLinks + encodeURIComponent(id)).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (place) {
      if (place && place.article) {
        location.replace("/articles/" + encodeURIComponent(place.article) + "#" + encodeURIComponent(id));
      }
    }).catch(function () { /* offline or unknown id: the page stays as it is */ });
  }

  /* Links in the text and in the list: the hash changes (history entry), then the map follows. */
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-place]");
    if (!link) {
      return;
    }
    var id = link.getAttribute("data-place");
    returnFocusTo = link;
    event.preventDefault();
    setHash(id);
    openPlace(id, true);
  });

  window.addEventListener("popstate", fromHash);
  window.addEventListener("hashchange", fromHash);

  /* Esc closes the popup wherever focus is, and gives focus back to what opened it. Capture
   * phase: Leaflet's own Esc handler on the map would otherwise close it first. */
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !activeId) {
      return;
    }
    map.closePopup();
    if (returnFocusTo && document.contains(returnFocusTo)) {
      returnFocusTo.focus({ preventScroll: true });
    }
  }, true);

  document.querySelectorAll(".legend input[data-category]").forEach(function (box) {
    box.addEventListener("change", function () {
      var group = registry.groups[box.getAttribute("data-category")];
      if (!group) {
        return;
      }
      if (box.checked) {
        group.addTo(map);
      } else {
        map.removeLayer(group);
      }
    });
  });

  /* With no tile server (offline, or configured so), country outlines become the ground. */
  var basemapShown = false;
  function showBasemap(message) {
    if (basemapShown) {
      return;
    }
    basemapShown = true;
    fetch(data.basemap).then(function (response) {
      return response.json();
    }).then(function (outlines) {
      map.createPane("nm-land").style.zIndex = 150;
      L.geoJSON(outlines, { pane: "nm-land", interactive: false, style: { className: "nm-land" } }).addTo(map);
      if (statusLine && message) {
        statusLine.textContent = message;
      }
    }).catch(function () {
      basemapShown = false;
    });
  }
  if (!registry.tiles) {
    showBasemap("");
  } else {
    var tileLoaded = false;
    registry.tiles.on("tileload", function () { tileLoaded = true; });
    registry.tiles.on("tileerror", function () {
      if (!tileLoaded) {
        showBasemap("Map tiles could not load: showing country outlines.");
      }
    });
  }

  /* What the editing page's script (editor.js) builds on. */
  window.newsmap = { map: map, registry: registry, data: data, places: places, hooks: hooks, openPlace: openPlace };

  if (location.hash) {
    fromHash();
  }
}());
