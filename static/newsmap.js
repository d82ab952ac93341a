/* newsmap: links the article, the places list and the Folium map both ways.
 *
 * Every string from the dataset reaches the page through textContent or setAttribute, never
 * through innerHTML, so names and quotes are shown as text whatever they contain. The markers
 * come from folium; window.newsmapRegistry (emitted last by the page) maps place ids to them.
 */
(function () {
  "use strict";

  var registry = window.newsmapRegistry;
  var core = window.newsmapCore;  /* static/mapcore.js, sent in front of this script */
  var dataElement = document.getElementById("newsmap-data");
  if (!registry || !dataElement || !window.L || !core) {
    return;
  }
  var data = JSON.parse(dataElement.textContent);
  var map = registry.map;
  var places = {};
  data.places.forEach(function (place) {
    places[place.id] = place;
  });
  var statusLine = document.querySelector(".map-status");
  var reduceMotion = core.reduceMotion;
  var narrow = window.matchMedia ? window.matchMedia("(max-width: 700px)") : { matches: false };
  var embedded = !!data.embed;  /* the embed page (/articles/<slug>/embed), maybe in another site's iframe */
  var activeId = null;
  var returnFocusTo = null;
  var hooks = { popup: [] };  /* the editing page's script adds its controls to popups here */

  var element = core.element;
  var loadScript = core.loadScript;

  /* ---------------------------------------------------------------- a place's details
   * What a popup (or the phone's sheet) shows, and how a popup is laid out inside the map, are in
   * static/details.js, fetched on the reader's first move over or into the page (or at once for a
   * link to a place): a reader who opens no place never downloads it. A popup asked for before it
   * is there shows "…", filled as soon as it comes. */

  function withDetails(run) {
    return loadScript(dataElement.getAttribute("data-details-script"), "newsmapDetails").then(run);
  }

  function popupFor(place) {
    return function (marker) {
      if (window.newsmapDetails) {
        return window.newsmapDetails.content(place, marker);
      }
      withDetails(function (details) {
        if (marker.isPopupOpen()) {
          marker.getPopup().update();
          details.fit(marker.getPopup());
        }
      });
      return element("p", "nm-popup", "…");
    };
  }

  /* Each place's source comes with the article's JSON (data-details), fetched once: on the reader's
   * first move over or into the page, so it is there by the time a popup opens. */
  var sourcesLoading = null;
  function loadSources() {
    if (!sourcesLoading) {
      sourcesLoading = fetch(dataElement.getAttribute("data-details")).then(function (response) {
        if (!response.ok) {
          throw new Error("article " + response.status);
        }
        return response.json();
      }).then(function (article) {
        article.places.forEach(function (row) {
          if (places[row.id] && places[row.id].source === undefined) {
            places[row.id].source = row.source;
          }
        });
      });
      sourcesLoading.catch(function () { sourcesLoading = null; });  /* the next popup tries again */
    }
    return sourcesLoading;
  }
  ["pointerover", "touchstart", "focusin"].forEach(function (type) {
    document.addEventListener(type, function first() {
      document.removeEventListener(type, first, true);
      loadSources().catch(function () { /* a popup says so if it is still missing */ });
      withDetails(function () {}).catch(function () { /* tried again when a place opens */ });
    }, true);
  });
  if (location.hash) {
    withDetails(function () {}).catch(function () {});
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

  /* On a phone-sized screen the details open in a sheet along the bottom of the screen, not in a
   * popup: a popup taller than the map would put its title and close button out of sight. */
  var sheetQuery = window.matchMedia ? window.matchMedia("(max-width: 600px)") : { matches: false };
  var HIT = core.hit;  /* a marker's hit box in px (the dot is 18 px): 44 px for a finger */

  function bindDetails(place, marker) {
    if (sheetQuery.matches) {
      marker.unbindPopup();
    } else if (!marker.getPopup()) {
      marker.bindPopup(popupFor(place), { autoPan: false });  /* details.js's fit pans instead */
    }
  }

  Object.keys(registry.markers).forEach(function (id) {
    var place = places[id];
    var marker = registry.markers[id];
    if (!place) {
      return;
    }
    marker.options.riseOnHover = true;  /* read when the marker is added: its group is not on the map yet */
    marker.setIcon(core.icon(place));
    marker.bindTooltip(element("span", null, place.shown), { direction: "top", offset: [0, -10] });
    bindDetails(place, marker);
    marker.on("add", function () { decorate(place, marker); });
    /* Leaflet opens a bound popup on click and on Enter by itself; the sheet needs telling. */
    function chosen(byKeyboard) {
      returnFocusTo = marker.getElement();
      setHash(id);
      if (sheetQuery.matches) {
        openSheet(id, byKeyboard);
      }
    }
    marker.on("click", function () { chosen(false); });
    marker.on("keypress", function (event) {
      if (event.originalEvent.key === "Enter") {
        chosen(true);
      }
    });
    marker.on("popupopen", function () { setActive(id); });
    marker.on("popupclose", function () {
      if (activeId === id) {
        setActive(null);
      }
    });
    decorate(place, marker);
  });

  Object.keys(registry.groups).forEach(function (index) {  /* folium leaves them off the map until their icons are set */
    registry.groups[index].addTo(map);
  });

  function onSheetQuery() {
    closeDetails();
    prefetchSheet();
    Object.keys(registry.markers).forEach(function (id) {
      if (places[id]) {
        bindDetails(places[id], registry.markers[id]);
      }
    });
  }
  if (sheetQuery.addEventListener) {
    sheetQuery.addEventListener("change", onSheetQuery);
  }
  prefetchSheet();

  /* ---------------------------------------------------------------- the sheet (phones)
   * static/phone.js, fetched on phone-sized screens only: a place's details in a sheet along the
   * bottom of the screen instead of a popup. */

  function withSheet(run) {
    return withDetails(function () {
      return loadScript(dataElement.getAttribute("data-phone-script"), "newsmapSheet");
    }).then(run);
  }

  function prefetchSheet() {
    if (sheetQuery.matches) {
      withSheet(function () {});
    }
  }

  function openSheet(id, focus) {
    map.closePopup();
    withSheet(function (sheet) { sheet.open(id, focus); });
  }

  function detailsOpen(id) {
    var marker = registry.markers[id];
    return (window.newsmapSheet && window.newsmapSheet.openId() === id) || !!(marker && marker.isPopupOpen());
  }

  function closeDetails() {
    map.closePopup();
    if (window.newsmapSheet && window.newsmapSheet.close()) {
      setActive(null);
    }
  }

  function returnFocus() {
    if (returnFocusTo && document.contains(returnFocusTo)) {
      returnFocusTo.focus({ preventScroll: true });
    }
  }

  function showDetails(id, focus) {
    if (sheetQuery.matches) {
      openSheet(id, focus);
      return;
    }
    function show() {
      registry.markers[id].openPopup();
      var title = document.getElementById("nm-popup-title");
      if (focus && title) {
        title.focus({ preventScroll: true });
      }
    }
    withDetails(show).catch(show);  /* without details.js, the popup says "…" */
  }

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
      /* In an iframe a new history entry would be the host page's too: its Back button would step through places. */
      history[embedded ? "replaceState" : "pushState"](null, "", "#" + encodeURIComponent(id));
    }
  }

  /* Fly to a place and open its popup; `focus` moves keyboard focus into the popup. */
  function openPlace(id, focus) {
    var place = places[id];
    var marker = registry.markers[id];
    if (!place || !marker) {
      return false;
    }
    if (id === activeId && detailsOpen(id)) {
      return true;
    }
    closeDetails();  /* no stale popup while the map flies to the next place */
    var group = registry.groups[place.cat];
    if (group && !map.hasLayer(group)) {
      group.addTo(map);
      var box = document.querySelector('.legend input[data-category="' + place.cat + '"]');
      if (box) {
        box.checked = true;
      }
    }
    if (narrow.matches && !embedded) {
      document.querySelector(".map-panel").scrollIntoView({ behavior: reduceMotion ? "auto" : "smooth" });
    }
    var opened = false;
    function open() {
      if (opened) {
        return;
      }
      opened = true;
      reveal(id);
      showDetails(id, focus);
    }
    var zoom = data.zoom[place.precision] || map.getZoom();
    map.once("moveend", open);
    window.newsmap.flight = { to: marker.getLatLng(), zoom: zoom, until: Date.now() + 3000 };
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
    sentence.tabIndex = -1;  /* focusable by script, not in the Tab order */
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
      closeDetails();
    }  /* old "/#<id>" links land on the library page: library.js sends them on */
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
    closeDetails();
    returnFocus();
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

  /* ---------------------------------------------------------------- markers that would cover each other
   * are spread or gathered by mapcore.js's spreader, worked out again after every zoom. */

  var placed = {};
  Object.keys(registry.markers).forEach(function (id) {
    if (places[id]) {
      placed[id] = registry.markers[id];
    }
  });
  var spread = core.spreader(map, placed, function (id) { return places[id].shown; });
  var reveal = spread.reveal;

  /* ---------------------------------------------------------------- start view and "Show all places" */

  var startView = { center: map.getCenter(), zoom: map.getZoom() };
  var everyPoint = L.latLngBounds(Object.keys(registry.markers).map(function (id) {
    return registry.markers[id].getLatLng();
  }));
  if (everyPoint.isValid() && !map.getBounds().contains(everyPoint)) {
    var ShowAll = L.Control.extend({
      options: { position: "topleft" },
      onAdd: function () {
        var bar = element("div", "leaflet-bar nm-show-all");
        var button = element("button", null, "Show all places");
        button.type = "button";
        var all = false;
        button.addEventListener("click", function () {
          all = !all;
          if (all) {
            map.flyToBounds(everyPoint, { padding: [30, 30], maxZoom: 9, animate: !reduceMotion });
          } else {
            map.flyTo(startView.center, startView.zoom, { animate: !reduceMotion });
          }
          button.textContent = all ? "Back to the story's places" : "Show all places";
        });
        bar.appendChild(button);
        L.DomEvent.disableClickPropagation(bar);
        return bar;
      }
    });
    new ShowAll().addTo(map);
  }

  core.ground(map, registry.tiles, data.basemap, dataElement.getAttribute("data-basemap-script"), statusLine);

  /* What the editing page's script (editor.js) builds on; mapCanvas is the share control's drawing. */
  window.newsmap = {
    map: map, registry: registry, data: data, places: places, hooks: hooks, openPlace: openPlace, element: element,
    setActive: setActive, closeDetails: closeDetails, returnFocus: returnFocus, loadSources: loadSources,
    showSentence: showSentence, adoptStyle: core.adoptStyle, hit: HIT, reduceMotion: reduceMotion, flight: null,
    popupContent: function (place) { return window.newsmapDetails.popupContent(place); }  /* once details.js is there */
  };

  /* ---------------------------------------------------------------- share: links, embed code, PNG
   * The buttons are here; what they do is in share.js, fetched on the first press (a reader who never
   * shares never downloads it). */

  var shareBox = document.querySelector(".share[data-slug]");

  function withShare(status, run) {
    return loadScript(shareBox.getAttribute("data-script"), "newsmapShare").then(run, function (error) {
      status.textContent = "Sharing is not available: its script could not load.";
      throw error;
    });
  }

  function placeShare(place, root) {
    var row = element("p", "nm-share");
    var status = element("span", "nm-share-status");
    status.setAttribute("role", "status");
    var hash = "#" + encodeURIComponent(place.id);
    [["Copy link", "Link copied", function (share) { return share.absolute(shareBox.getAttribute("data-page")) + hash; }],
     ["Copy embed code", "Embed code copied", function (share) { return share.embedCode(hash); }]].forEach(function (action) {
      var button = element("button", null, action[0]);
      button.type = "button";
      button.setAttribute("aria-label", action[0] + " to " + place.shown);
      button.addEventListener("click", function () {
        withShare(status, function (share) { share.copyText(action[2](share), action[1], row, status); });
      });
      row.appendChild(button);
    });
    row.appendChild(status);
    root.appendChild(row);
  }

  if (shareBox) {
    var shareStatus = shareBox.querySelector(".share-status");
    shareBox.querySelector('[data-share="link"]').addEventListener("click", function () {
      withShare(shareStatus, function (share) {
        share.copyText(share.absolute(shareBox.getAttribute("data-page")), "Link copied", shareBox, shareStatus);
      });
    });
    shareBox.querySelector('[data-share="embed"]').addEventListener("click", function () {
      withShare(shareStatus, function (share) { share.copyText(share.embedCode(""), "Embed code copied", shareBox, shareStatus); });
    });
    shareBox.querySelector('[data-share="png"]').addEventListener("click", function (event) {
      var button = event.currentTarget;
      withShare(shareStatus, function (share) { share.downloadPng(button, shareStatus); });
    });
    hooks.popup.push(placeShare);
    window.newsmap.mapCanvas = function () {
      return withShare(shareStatus, function (share) { return share.mapCanvas(); });
    };
    shareBox.hidden = false;
  }

  /* ---------------------------------------------------------------- print */

  function absolute(path) {
    return new URL(path, location.href).href;
  }

  document.querySelectorAll(".print-url[data-path]").forEach(function (node) {
    node.textContent = absolute(node.getAttribute("data-path"));
  });

  /* Printed, the map is 18 x 9.5 cm (newsmap.css): it takes that size before the page is laid out for
   * paper, Leaflet measures it again and shows every place; afterwards the reader's view comes back. */
  var screenView = null;
  function forPrint(printing) {
    if (printing && !screenView) {
      screenView = { center: map.getCenter(), zoom: map.getZoom() };
      document.documentElement.classList.add("nm-printing");
      map.invalidateSize({ pan: false });
      var points = Object.keys(registry.markers).filter(function (id) {
        return map.hasLayer(registry.markers[id]);
      }).map(function (id) { return registry.markers[id].getLatLng(); });
      if (points.length) {
        map.fitBounds(L.latLngBounds(points), { padding: [24, 24], maxZoom: 9, animate: false });
      }
    } else if (!printing && screenView) {
      document.documentElement.classList.remove("nm-printing");
      map.invalidateSize({ pan: false });
      map.setView(screenView.center, screenView.zoom, { animate: false });
      screenView = null;
    }
  }
  var printMedia = window.matchMedia ? window.matchMedia("print") : null;
  if (printMedia) {  /* Chromium may lay the page out for paper without a beforeprint event */
    var onPrintMedia = function (event) { forPrint(event.matches); };
    if (printMedia.addEventListener) {
      printMedia.addEventListener("change", onPrintMedia);
    } else if (printMedia.addListener) {
      printMedia.addListener(onPrintMedia);
    }
  }
  window.addEventListener("beforeprint", function () { forPrint(true); });
  window.addEventListener("afterprint", function () { forPrint(false); });


  if (location.hash) {
    fromHash();
  }
}());
