/* newsmap's map core, shared by the article page (newsmap.js) and the library (library.js): the
 * server sends it in front of each of them as one script (site.BUNDLES), so neither page pays a
 * request for it. What every newsmap map does alike:
 *
 * - markers: a div icon per place, its shape and colour by family, its hit box sized for the pointer;
 * - markers that would cover each other spread on a ring, or gathered under a count (spreader);
 * - the ground: tiles, or newsmap's offline basemap (basemap.js, fetched only then) when there are
 *   none or they fail or hang; its notice shrinks to a badge on a small screen (ground, notice);
 * - scripts fetched once when first needed, and their styles given through the CSS object model. */
(function () {
  "use strict";

  var media = function (query) { return window.matchMedia ? window.matchMedia(query) : { matches: false }; };
  var reduceMotion = media("(prefers-reduced-motion: reduce)").matches;
  var HIT = media("(pointer: coarse)").matches ? 44 : 24;  /* a marker's hit box in px (its dot is 18 px) */

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

  /* A place's marker icon: family (shape and colour) and precision as classes newsmap.css draws. */
  function icon(place) {
    return L.divIcon({
      className: "nm-marker nm-fam-" + place.family + " nm-precision-" + place.precision, html: "", iconSize: [HIT, HIT]
    });
  }

  /* A script fetched when first needed (share.js, phone.js, basemap.js), once however often it is
   * asked for; it defines window[global]. A failed load is tried again at the next call. */
  var scripts = {};
  function loadScript(url, global) {
    if (!scripts[global]) {
      scripts[global] = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = url;
        script.onload = function () { return window[global] ? resolve(window[global]) : reject(new Error(global)); };
        script.onerror = function () { reject(new Error(url)); };
        document.head.appendChild(script);
      });
      scripts[global].catch(function () { delete scripts[global]; });
    }
    return scripts[global];
  }

  /* A style of a script fetched on demand (the sheet, the basemap), given to the page through the
   * CSS object model, which the page's Content-Security-Policy allows (inline <style> it does not). */
  function adoptStyle(text) {
    if (!document.adoptedStyleSheets || !window.CSSStyleSheet || !CSSStyleSheet.prototype.replaceSync) {
      return;  /* an old browser: the sheet and the basemap work, with Leaflet's look */
    }
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(text);
    document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);
  }

  /* ---------------------------------------------------------------- markers that would cover each other
   * Markers whose hit boxes would overlap at this zoom form a group. A group of up to SPREAD_MAX is
   * spread on a ring around its centre, each marker tied to its true point by a thin leg (a town and
   * its air base on one point stay two targets); a bigger group is gathered under a count that zooms
   * in, or spreads it where zooming cannot part them. Worked out again after every zoom, and after
   * markers are added or removed (a legend's category). `markers` is {id: L.marker}; `name(id)` is
   * what a count says of each of its places. Each layout fires "nm:layout" on the map. */

  var GAP = 4;
  var SPREAD_MAX = 8;

  function spreader(map, markers, name) {
    var spreadAnyway = {};  /* ids of a gathered group the reader opened where zooming could not part it */
    map.createPane("nm-legs").style.zIndex = 590;
    var legs = L.layerGroup().addTo(map);
    var counts = L.layerGroup().addTo(map);
    if (!isFinite(map.getMaxZoom())) {
      map.setMaxZoom(18);
    }

    function spreads(group) {
      return group.members.length <= SPREAD_MAX || group.members.every(function (m) { return spreadAnyway[m.id]; });
    }

    function ringRadius(n) {
      return n < 2 ? 0 : (HIT + GAP) / (2 * Math.sin(Math.PI / n));
    }

    function reach(group) {
      return (spreads(group) ? ringRadius(group.members.length) : 0) + HIT / 2;
    }

    /* Merge groups until no two footprints overlap (a few hundred markers at most: quadratic is fine). */
    function groupsNow() {
      var groups = Object.keys(markers).filter(function (id) {
        return map.hasLayer(markers[id]);
      }).map(function (id) {
        var p = map.latLngToLayerPoint(markers[id].getLatLng());
        return { members: [{ id: id, p: p }], x: p.x, y: p.y };
      });
      for (var merged = true; merged;) {
        merged = false;
        for (var i = 0; i < groups.length && !merged; i++) {
          for (var j = i + 1; j < groups.length && !merged; j++) {
            var a = groups[i], b = groups[j];
            if (Math.hypot(a.x - b.x, a.y - b.y) < reach(a) + reach(b) + GAP) {
              a.members = a.members.concat(b.members);
              a.x = a.members.reduce(function (sum, m) { return sum + m.p.x; }, 0) / a.members.length;
              a.y = a.members.reduce(function (sum, m) { return sum + m.p.y; }, 0) / a.members.length;
              groups.splice(j, 1);
              merged = true;
            }
          }
        }
      }
      return groups;
    }

    /* Ring slots in the order of the members' own bearings from the centre, so legs do not cross. */
    function ring(group) {
      var n = group.members.length, r = ringRadius(n);
      function bearing(m) { return Math.atan2(m.p.y - group.y, m.p.x - group.x); }
      var members = group.members.slice().sort(function (a, b) {
        return bearing(a) - bearing(b) || (a.id < b.id ? -1 : 1);
      });
      var first = members[0].p;
      var start = Math.hypot(first.x - group.x, first.y - group.y) < 1 ? -Math.PI / 2 : bearing(members[0]);
      members.forEach(function (m, k) {
        var angle = start + 2 * Math.PI * k / n;
        m.at = L.point(group.x + r * Math.cos(angle), group.y + r * Math.sin(angle));
      });
    }

    function put(member, gathered) {
      var marker = markers[member.id];
      var at = member.at || member.p;
      var dx = Math.round(at.x - member.p.x), dy = Math.round(at.y - member.p.y);
      var options = marker.options.icon.options;
      var moved = !options.popupAnchor || options.popupAnchor[0] !== dx || options.popupAnchor[1] !== dy - 9;
      options.popupAnchor = [dx, dy - 9];
      options.tooltipAnchor = [dx, dy];
      var node = marker.getElement();
      if (node) {
        node.style.marginLeft = (dx - HIT / 2) + "px";
        node.style.marginTop = (dy - HIT / 2) + "px";
        node.classList.toggle("nm-gathered", gathered);
        node.classList.toggle("nm-spread", !gathered && (dx !== 0 || dy !== 0));
      }
      if (!gathered && (dx || dy)) {
        legs.addLayer(L.polyline([marker.getLatLng(), map.layerPointToLatLng(at)], {
          pane: "nm-legs", interactive: false, className: "nm-leg", weight: 1.5
        }));
      }
      if (moved && marker.isPopupOpen()) {  /* the open popup follows its marker; no update(): that would pan the map */
        marker.getPopup()._updatePosition();
      }
    }

    function gatheredCount(group) {
      var names = group.members.map(function (m) { return name(m.id); });
      var size = HIT + 8;
      var badge = L.marker(map.layerPointToLatLng(L.point(group.x, group.y)), {
        icon: L.divIcon({ className: "nm-count", html: element("span", null, String(names.length)), iconSize: [size, size] }),
        keyboard: true, riseOnHover: true, zIndexOffset: 500
      });
      var label = names.length + " places here: " + names.join(", ") + ". Zoom in to them";
      badge.on("add", function () {
        var node = badge.getElement();
        node.setAttribute("data-places", group.members.map(function (m) { return m.id; }).join(" "));
        node.setAttribute("aria-label", label);
        node.setAttribute("title", label);
        node.setAttribute("role", "button");
      });
      function open() { openGroup(group); }
      badge.on("click", open);
      badge.on("keydown", function (event) {
        if (event.originalEvent.key === "Enter" || event.originalEvent.key === " ") {
          event.originalEvent.preventDefault();
          open();
        }
      });
      return badge;
    }

    /* A count zooms in to its places; where zooming cannot part them, they are spread where they are. */
    function openGroup(group) {
      var bounds = L.latLngBounds(group.members.map(function (m) { return markers[m.id].getLatLng(); }));
      var zoom = Math.min(map.getBoundsZoom(bounds, false, L.point(4 * HIT, 4 * HIT)), map.getMaxZoom());
      if (zoom > map.getZoom()) {
        map.flyToBounds(bounds, { padding: [2 * HIT, 2 * HIT], maxZoom: zoom, animate: !reduceMotion });
        return;
      }
      spreadHere(group);
      var first = markers[group.members[0].id].getElement();
      if (first) {
        first.focus({ preventScroll: true });
      }
    }

    /* A gathered group spread where it is, until the next zoom. */
    function spreadHere(group) {
      group.members.forEach(function (m) { spreadAnyway[m.id] = true; });
      layout();
    }

    function layout() {
      legs.clearLayers();
      counts.clearLayers();
      groupsNow().forEach(function (group) {
        var gathered = !spreads(group);
        if (!gathered && group.members.length > 1) {
          ring(group);
        }
        group.members.forEach(function (m) { put(m, gathered); });
        if (gathered) {
          counts.addLayer(gatheredCount(group));
        }
      });
      map.fire("nm:layout");
    }

    var pending = false;
    function soon() {  /* once for a whole category of markers added or removed together */
      if (!pending) {
        pending = true;
        window.setTimeout(function () {
          pending = false;
          layout();
        }, 0);
      }
    }

    /* The place about to open is never left under a count: its group is spread. */
    function reveal(id) {
      var node = markers[id] && markers[id].getElement();
      if (node && node.classList.contains("nm-gathered")) {
        spreadHere(groupsNow().filter(function (group) {
          return group.members.some(function (m) { return m.id === id; });
        })[0]);
      }
    }

    map.on("zoomstart", function () { spreadAnyway = {}; });
    map.on("zoomend viewreset", layout);
    Object.keys(markers).forEach(function (id) {
      var marker = markers[id];
      marker.on("add remove", soon);  /* a category shown or hidden in the legend, or a marker re-added */
      marker.on("dragstart", function () {  /* dragged from where it really is, not from its ring slot */
        put({ id: id, p: map.latLngToLayerPoint(marker.getLatLng()) }, false);
      });
    });
    layout();
    return { layout: layout, reveal: reveal };
  }

  /* ---------------------------------------------------------------- the ground
   * Without tiles (offline, or a tile server that fails or hangs), newsmap's own basemap is the
   * ground: land and water, boundaries, rivers and labelled towns (basemap.js, fetched only then: a
   * reader with tiles never pays for it). `status` is the map's notice line. */

  var OFFLINE_NOTICE = "Map tiles could not load: showing newsmap's offline basemap.";

  function ground(map, tiles, spec, script, status) {
    var shown = false;
    function show(message) {
      if (shown || !script) {
        return;
      }
      shown = true;
      loadScript(script, "newsmapBasemap").then(function (basemap) {
        return basemap.show(map, spec);
      }).then(function () {
        if (status && message) {
          notice(status, message);
        }
      }).catch(function () {
        shown = false;
      });
    }
    if (!tiles) {
      show("");
      return;
    }
    var loaded = false;
    tiles.on("tileload", function () { loaded = true; });
    tiles.on("tileerror", function () {
      if (!loaded) {
        show(OFFLINE_NOTICE);
      }
    });
    /* A tile server that neither answers nor fails: no tile within 4 s is as good as a failure. */
    window.setTimeout(function () {
      if (!loaded) {
        show(OFFLINE_NOTICE);
      }
    }, 4000);
  }

  /* A notice over the map, read out once (role=status); on a small screen (newsmap.css) it shrinks to
   * a badge after a few seconds, not to hide the map for good: a tap on the badge shows it again. */
  function notice(status, message) {
    status.textContent = message;
    status.classList.remove("nm-badge");
    if (!status.nmBadge) {
      status.nmBadge = true;
      status.addEventListener("click", function () { status.classList.toggle("nm-badge"); });
    }
    window.setTimeout(function () { status.classList.add("nm-badge"); }, 5000);
  }

  window.newsmapCore = {
    hit: HIT, reduceMotion: reduceMotion, element: element, icon: icon, loadScript: loadScript,
    adoptStyle: adoptStyle, spreader: spreader, ground: ground, notice: notice
  };
}());
