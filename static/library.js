/* newsmap library page: one map of every place the articles in range name (all of them, not the
   listed page's), each marker linking to its newest article, and a time slider over it.

   The map's data is fetched after the page is drawn (`data.map`: /api/library/map?from=&to=&q=), so
   the page weighs the same whatever the library holds: one marker per place across the library, or,
   past a few thousand, counts of the tiles they lie in (the server's), each opened as the reader zooms
   in to it (static/maptiles.js, fetched only then). The markers are the article pages' (mapcore.js,
   sent in front of this script): shapes and colours by family, spread or gathered where they would
   cover each other, newsmap's offline basemap when tiles fail. The time slider (drawn by the server)
   moves the map and the address (?from=&to=) with static/timeslider.js, fetched on the reader's first
   touch of it. Every text from the data reaches the page through textContent. The list of articles is
   the map's accessible twin. Old "/#<place id>" links (made when "/" was one article's page) are sent on. */
(function () {
  "use strict";
  var dataElement = document.getElementById("newsmap-data");
  var data = JSON.parse(dataElement.textContent);
  var core = window.newsmapCore;

  /* An article's page: "/articles/<slug>" on the server, a relative file in a static export. */
  function articleUrl(slug) {
    return data.articleLink.replace("{slug}", encodeURIComponent(slug));
  }

  function followOldLink() {
    var id;
    try {
      id = decodeURIComponent(location.hash.slice(1));
    } catch (error) {
      return;
    }
    if (!id || !data.oldLinks) {
      return;
    }
    fetch(data.oldLinks + encodeURIComponent(id)).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (place) {
      if (place && place.article) {
        location.replace(articleUrl(place.article) + "#" + encodeURIComponent(id));
      }
    }).catch(function () { /* offline or unknown: stay on the library */ });
  }
  followOldLink();

  var holder = document.getElementById("library-map");
  if (!holder || !window.L || !core) {
    return;
  }
  var element = core.element;
  var map = L.map(holder, { worldCopyJump: true, scrollWheelZoom: false, maxZoom: 18 });
  var tiles = data.tiles === "offline" ? null
    : L.tileLayer(data.tiles, { maxZoom: 18, attribution: "© OpenStreetMap contributors" }).addTo(map);
  L.control.scale().addTo(map);
  var markers = {}, names = {};  /* by place key: one marker per place across the library */
  var counts = L.layerGroup().addTo(map);
  var panel = document.querySelector(".nm-time");
  var state = { params: {}, generation: 0, root: null, spread: null, ground: false, viewed: false, docs: {},
    words: data.words || "", tiles: null };
  Object.keys(data.params).forEach(function (name) { state.params[name] = data.params[name]; });
  window.newsmapRegistry = { map: map, tiles: tiles, markers: markers };  /* as an article page has it, for tests and scripts */

  /* ---------------------------------------------------------------- the map's data */

  function search(params) {
    var query = new URLSearchParams();
    ["q", "from", "to"].forEach(function (name) {
      if (params[name]) {
        query.set(name, params[name]);
      }
    });
    return query.toString();
  }

  function fetchDoc(tile) {
    var query = search(state.params);
    var url = (tile ? data.tile.replace("{tile}", tile) : data.map) + (query ? "?" + query : "");
    if (!state.docs[url]) {
      state.docs[url] = fetch(url).then(function (response) {
        if (!response.ok) {
          throw new Error(url + ": " + response.status);
        }
        return response.json();
      });
      state.docs[url].catch(function () { delete state.docs[url]; });
    }
    return state.docs[url];
  }

  function placeMarker(place) {
    var href = articleUrl(place.article) + "#" + encodeURIComponent(place.id);
    var marker = L.marker([place.lat, place.lon], { icon: core.icon(place), riseOnHover: true });
    var more = place.articles > 1 ? place.articles + " articles, the newest " : "";
    marker.on("add", function () {
      var node = marker.getElement();
      node.setAttribute("aria-label", place.name + ": " + more + place.title);
      node.setAttribute("data-place", place.key);
    });
    var label = element("span");
    label.appendChild(element("strong", null, place.name));
    label.appendChild(document.createElement("br"));
    if (more) {
      label.appendChild(document.createTextNode(place.articles + " articles · newest: "));
    }
    label.appendChild(document.createTextNode(place.title));
    marker.bindTooltip(label, { direction: "top", offset: [0, -10] });
    marker.on("click", function () { location.href = href; });
    marker.on("keypress", function (event) {
      if (event.originalEvent.key === "Enter") {
        location.href = href;
      }
    });
    return marker;
  }

  /* What a tile's answer shows: its places' markers, and its tiles' counts (maptiles.js, fetched then). */
  function fill(node, doc) {
    node.live = true;
    (doc.places || []).forEach(function (place) {
      if (!markers[place.key]) {
        markers[place.key] = placeMarker(place).addTo(map);
        names[place.key] = place.name;
        node.keys.push(place.key);
      }
    });
    if ((doc.cells || []).length) {
      core.loadScript(dataElement.getAttribute("data-tiles-script"), "newsmapMapTiles").then(function (make) {
        state.tiles = state.tiles || make(api);
        if (node.live) {
          state.tiles.add(node, doc.cells);
          state.tiles.refine();
        }
      });
    }
  }

  function empty(node) {
    node.live = false;
    node.keys.forEach(function (key) {
      map.removeLayer(markers[key]);
      delete markers[key];
      delete names[key];
    });
    node.children.forEach(function (child) {
      empty(child);
      counts.removeLayer(child.badge);
    });
    node.keys = [];
    node.children = [];
  }

  /* The view that shows a map's places (not a country's centre when there is more), above the slider. */
  function fit(doc) {
    var points = (doc.places || []).filter(function (p) { return p.precision !== "country"; });
    points = (points.length ? points : doc.places || []).concat(doc.cells || []).map(function (p) { return [p.lat, p.lon]; });
    var below = (panel && !panel.hidden ? panel.offsetHeight : 0) + 36;  /* the slider, and a notice above it */
    if (points.length) {
      map.fitBounds(points, { paddingTopLeft: [20, 20], paddingBottomRight: [20, 20 + below], maxZoom: 8 });
    } else if (!state.viewed) {
      map.setView([35, 45], 2);
    }
    state.viewed = true;
  }

  function load() {
    var generation = ++state.generation;
    fetchDoc("").then(function (doc) {
      if (generation !== state.generation) {
        return;
      }
      if (state.root) {
        empty(state.root);
      }
      state.root = { tile: doc.tile, keys: [], children: [], open: true };
      if (!state.viewed || !inViewOf(doc)) {
        fit(doc);
      }
      fill(state.root, doc);
      state.spread = state.spread || core.spreader(map, markers, function (key) { return names[key]; });
      state.spread.layout();
      describe(doc);
      startGround(doc.detail);
    }).catch(function () {
      fit({});
      var line = document.querySelector(".nm-time-status");
      if (line) {
        line.textContent = "The map's places could not be loaded.";
      }
      startGround(null);
    });
  }

  /* Whether any of a new answer's points lies in the current view (else the map moves to them). */
  function inViewOf(doc) {
    var view = map.getBounds();
    return (doc.places || []).concat(doc.cells || []).some(function (p) { return view.contains([p.lat, p.lon]); });
  }

  /* The ground: tiles, or the offline basemap (in an export, with the detail cells it holds). */
  function startGround(detail) {
    if (state.ground) {
      return;
    }
    state.ground = true;
    var spec = data.basemap;
    if (detail) {
      spec = { url: data.basemap.url, cells: { detail: detail } };
    }
    core.ground(map, tiles, spec, dataElement.getAttribute("data-basemap-script"),
      document.querySelector(".library-map .map-status"));
  }

  /* ---------------------------------------------------------------- what the map shows, and the slider */

  /* The status line under the slider; the range's words are for screen readers alone on a small screen. */
  function describe(doc) {
    var line = document.querySelector(".nm-time-status");
    if (!line) {
      return;
    }
    var places = (doc.cells || []).reduce(function (sum, cell) { return sum + cell.count; }, (doc.places || []).length);
    line.textContent = places + (places === 1 ? " place" : " places") + " in " + doc.articles +
      (doc.articles === 1 ? " article" : " articles");
    if (state.words) {
      line.appendChild(element("span", "nm-time-words", " published " + state.words));
    }
    line.appendChild(document.createTextNode((doc.undated ? "; " + doc.undated + " without a date left out" : "") + "."));
  }

  /* What maptiles.js and timeslider.js work with. */
  var api = {
    data: data, state: state, map: map, core: core, markers: markers, counts: counts, panel: panel,
    fetchDoc: fetchDoc, fill: fill, empty: empty, load: load, search: search,
    layout: function () { state.spread.layout(); }
  };

  /* The slider's fill between its handles (a style the page's policy allows only from a script). */
  function track() {
    var from = panel.querySelector(".nm-time-from"), to = panel.querySelector(".nm-time-to");
    var fill = panel.querySelector(".nm-time-fill"), span = Number(from.max) - Number(from.min);
    fill.style.setProperty("--lo", span ? from.value / span : 0);
    fill.style.setProperty("--hi", span ? (to.value - to.min) / span : 1);
  }

  if (panel) {
    panel.hidden = false;
    track();
    /* The map's scale, attribution and notice stay above the slider, however many lines it takes. */
    var clear = function () { panel.parentNode.style.setProperty("--nm-time-h", panel.offsetHeight + 8 + "px"); };
    clear();
    if (window.ResizeObserver) {
      new ResizeObserver(clear).observe(panel);
    }
    var wake = function () {
      panel.removeEventListener("focusin", wake);
      panel.removeEventListener("pointerdown", wake);
      core.loadScript(dataElement.getAttribute("data-slider-script"), "newsmapTimeSlider").then(function (start) {
        start(api, track);
      });
    };
    panel.addEventListener("focusin", wake);
    panel.addEventListener("pointerdown", wake);
  }
  map.on("moveend", function () {
    if (state.tiles) {
      state.tiles.refine();
    }
  });
  load();
}());
