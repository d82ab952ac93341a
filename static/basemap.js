/* The offline basemap (newsmap/serve/basemap.py): drawn when NEWSMAP_TILES=offline or tiles fail.
   Land on a water-coloured map, lakes and rivers, first-level region and country lines, and
   labels: countries, regions at mid zooms, towns by population as the reader zooms in, placed
   greedily (countries, cities of half a million, regions, then other towns, each by rank) so
   they never overlap. Panes sit below the markers.

   The ground comes in global cells, one URL each (`<url>/<level>/<x>/<y>.json`), fetched only
   for the view and only once: `world` cells (30 degrees) up to zoom 4, `region` cells (10
   degrees) at zooms 5 to 7, `detail` cells (1 degree: rivers, every town, fine lines) from zoom
   8, and only those the region cell above says exist. The start view of a country costs a
   couple of requests of a few KB. A static export holds every world and region cell but only the
   detail cells around its pages' places: `spec.cells.detail` lists those there are to ask for.
   A view is drawn at the finest level whose every cell in view could be had (a detail cell not in
   the export, or one that failed, gives the region level, never sea where land should be); the
   level drawn is the map's data-nm-ground. Labels are text nodes, never HTML. */
(function () {
  "use strict";

  var PANES = { "nm-bm-land": 150, "nm-bm-water": 160, "nm-bm-lines": 170, "nm-bm-labels": 380 };
  var LEVELS = [
    { name: "world", size: 30, from: 0 },
    { name: "region", size: 10, from: 5 },
    { name: "detail", size: 1, from: 8 }
  ];
  var MAX_LABELS = 120;
  var FILLS = { land: ["nm-bm-land", "nm-land nm-bm-land"], lake: ["nm-bm-water", "nm-bm-lake"], river: ["nm-bm-water", "nm-bm-river"] };
  var LINES = ["admin1", "border"];
  /* Water's outline, as .nm-bm-lake strokes it, drawn apart from the fill: only real shores, not
     the straight cuts where a lake or river crosses into the next cell. */
  var SHORE = { color: "#7fb3d3", weight: 0.6, opacity: 1, fill: false, className: "nm-bm-shore" };
  var BIG_TOWN = 5e5;  /* placed before region names: a capital must not lose its label to its province */

  function priority(label) {
    if (label.layer === "town") { return label.rank >= BIG_TOWN ? 1 : 3; }
    return label.layer === "country" ? 0 : 2;
  }

  /* The smallest town labelled at each zoom (population). */
  function townFloor(zoom) {
    if (zoom >= 12) { return 0; }
    return [5e6, 5e6, 5e6, 3e6, 2e6, 1e6, 5e5, 2e5, 1e5, 3e4, 1e4, 3e3][Math.max(0, zoom)];
  }

  function wanted(label, zoom) {
    if (label.layer === "country") { return zoom <= 7 && (zoom >= 4 || label.rank > 500000); }
    if (label.layer === "region") { return zoom >= 5 && zoom <= 9; }
    return label.layer === "town" && label.rank >= townFloor(zoom);
  }

  function levelAt(zoom) {
    for (var i = LEVELS.length - 1; i > 0; i--) {
      if (zoom >= LEVELS[i].from) { return LEVELS[i]; }
    }
    return LEVELS[0];
  }

  /* [x0, y0, dx, dy, ...] in `step` units -> integer points. */
  function points(numbers) {
    var out = [], x = 0, y = 0;
    for (var i = 0; i + 1 < numbers.length; i += 2) {
      x += numbers[i];
      y += numbers[i + 1];
      out.push([x, y]);
    }
    return out;
  }

  function latLngs(ints, step) {
    return ints.map(function (p) { return [p[1] * step, p[0] * step]; });
  }

  /* A ring's runs of sides that are not on the cell's edges (the cuts), as lines. */
  function shores(ring, edges) {
    var runs = [], run = [];
    function onEdge(a, b) {
      return (a[0] === b[0] && (a[0] === edges[0] || a[0] === edges[2])) ||
        (a[1] === b[1] && (a[1] === edges[1] || a[1] === edges[3]));
    }
    for (var i = 1; i < ring.length; i++) {
      if (onEdge(ring[i - 1], ring[i])) {
        if (run.length > 1) { runs.push(run); }
        run = [];
        continue;
      }
      if (!run.length) { run.push(ring[i - 1]); }
      run.push(ring[i]);
    }
    if (run.length > 1) { runs.push(run); }
    return runs;
  }

  /* A label's text, its box's corner at (x, y) px from its point; `moved`: away from its point, so a
     town's dot (drawn at the point otherwise) is left out. */
  function labelIcon(label, x, y, moved) {
    var node = document.createElement("span");
    node.textContent = label.name;
    node.style.left = x + "px";
    node.style.top = y + "px";
    return L.divIcon({ className: "nm-bm-label nm-bm-" + label.layer + (moved ? " nm-bm-moved" : ""), html: node, iconSize: null });
  }

  /* A label's size in px, measured as the page will draw it (STYLE's fonts), without a layout. */
  var ruler = document.createElement("canvas").getContext("2d");
  var FONTS = { town: [400, 0.72, 0], region: [400, 0.7, 0.06], country: [600, 0.85, 0.08] };  /* weight, rem, spacing em */
  function measure(label) {
    var font = FONTS[label.layer] || FONTS.town, rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
    var px = font[1] * rem, text = label.layer === "town" ? label.name : label.name.toUpperCase();
    ruler.font = font[0] + " " + px + "px " + getComputedStyle(document.body).fontFamily;
    var dot = label.layer === "town" ? 7 : 0;  /* a town's dot and its gap, before the text */
    return { w: Math.ceil(ruler.measureText(text).width + font[2] * px * text.length) + dot, h: Math.ceil(px * 1.1) };
  }

  /* Where a label may go around its point, first choice first: a town's text right of its dot, else
     clear of a marker on or beside it (right, left, above, below); other names centred, else above
     or below it, further, or beside. [x, y, moved] of the box's corner. */
  function spots(label, size) {
    var w = size.w, h = size.h, m = 16;  /* past a marker on the point: its 12 px half, the 2 px halo, 2 px apart */
    if (label.layer === "town") {
      var text = w - 7;  /* without the dot and its gap */
      return [[-2, -h / 2, false], [m, -h / 2, true], [-m - text, -h / 2, true], [-text / 2, -m - h, true], [-text / 2, m, true]];
    }
    var far = 2 * m + h;  /* past a count or a ring of markers */
    return [[-w / 2, -h / 2, false], [-w / 2, -m - h, true], [-w / 2, m, true], [-w / 2, -far - h, true], [-w / 2, far, true],
      [m, -h / 2, true], [-m - w, -h / 2, true]];
  }

  function noStroke() {
    var path = this.getElement();
    if (path) { path.style.stroke = "none"; }  /* the fill's cut edges: its shore is drawn apart */
  }

  /* One cell's layers (not yet on the map) and labels. */
  function build(level, x, y, body) {
    var step = body.step, per = Math.round(level.size / step);
    var edges = [x * per, y * per, (x + 1) * per, (y + 1) * per];
    var layers = [];
    Object.keys(FILLS).forEach(function (name) {
      if (!body[name] || !body[name].length) { return; }
      var rings = body[name].map(points);
      var fill = L.polygon(rings.map(function (r) { return latLngs(r, step); }), {
        pane: FILLS[name][0], className: FILLS[name][1], interactive: false, stroke: name !== "land"
      });
      if (name !== "land") {
        fill.on("add", noStroke);
        var lines = [];
        rings.forEach(function (r) { shores(r, edges).forEach(function (s) { lines.push(latLngs(s, step)); }); });
        if (lines.length) { layers.push(L.polyline(lines, L.extend({ pane: "nm-bm-water", interactive: false }, SHORE))); }
      }
      layers.unshift(fill);
    });
    LINES.forEach(function (name) {
      if (!body[name] || !body[name].length) { return; }
      var lines = body[name].map(function (numbers) { return latLngs(points(numbers), step); });
      layers.push(L.polyline(lines, { pane: "nm-bm-lines", className: "nm-bm-" + name, interactive: false }));
    });
    var labels = (body.labels || []).map(function (l) {
      return { layer: l[0], name: l[1], rank: l[2], at: L.latLng(l[4] * step, l[3] * step) };
    });
    return { layers: layers, labels: labels, detail: body.detail || "" };
  }

  /* The basemap's look, given to the page by mapcore.js's adoptStyle (no stylesheet request). */
  var STYLE = [
    ".nm-basemap .nm-land.nm-bm-land{fill:var(--land);fill-opacity:1;stroke:none}",
    ".nm-bm-lake,.nm-bm-river{fill:#a9cfe6;fill-opacity:1;stroke:#7fb3d3;stroke-width:.6;stroke-opacity:1}",
    ".nm-bm-admin1{fill:none;stroke:#a39a8b;stroke-width:1;stroke-dasharray:4 3;stroke-opacity:.9}",
    ".nm-bm-border{fill:none;stroke:#7d6f86;stroke-width:1.6;stroke-opacity:1}",
    ".nm-bm-label{white-space:nowrap;pointer-events:none}",
    ".nm-bm-label span{position:absolute;color:#3b3f44;font-size:.72rem;line-height:1.1;text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff}",
    '.nm-bm-town span::before{content:"";display:inline-block;width:4px;height:4px;margin-right:3px;vertical-align:middle;border-radius:50%;background:#55595e}',
    ".nm-bm-moved span::before{display:none}",
    ".nm-bm-region span{color:#6d6458;font-size:.7rem;letter-spacing:.06em;text-transform:uppercase}",
    ".nm-bm-country span{color:#4a3f57;font-size:.85rem;font-weight:600;letter-spacing:.08em;text-transform:uppercase}"
  ].join("");
  var styled = false;

  function show(map, spec) {
    spec = spec || {};
    if (!styled && window.newsmapCore) {
      window.newsmapCore.adoptStyle(STYLE);
      styled = true;
    }
    var base = spec.url, limits = spec.cells || null;
    var cells = {};     /* "level/x/y" -> Promise of the built cell (null when it could not be had) */
    var built = {};     /* "level/x/y" -> the built cell, once loaded */
    var groups = {};    /* level name -> L.layerGroup of its cells' shapes */
    var shownLevel = null, latest = 0, current = null;
    var listed = {};
    ((limits && limits.detail) || []).forEach(function (key) { listed[key] = true; });

    Object.keys(PANES).forEach(function (name) {
      var pane = map.getPane(name) || map.createPane(name);
      pane.style.zIndex = PANES[name];
      if (name === "nm-bm-labels") { pane.style.pointerEvents = "none"; }
    });
    map.getContainer().classList.add("nm-basemap");
    LEVELS.forEach(function (level) { groups[level.name] = L.layerGroup(); });
    var labelLayer = L.layerGroup().addTo(map);

    function inView(level) {
      var b = map.getBounds(), size = level.size, out = [];
      var west = Math.max(b.getWest(), -180), east = Math.min(b.getEast(), 179.999);
      var south = Math.max(b.getSouth(), -89.999), north = Math.min(b.getNorth(), 89.999);
      for (var y = Math.floor(south / size); y <= Math.floor(north / size); y++) {
        for (var x = Math.floor(west / size); x <= Math.floor(east / size); x++) { out.push([x, y]); }
      }
      return out;
    }

    function fetchCell(level, x, y) {
      var key = level.name + "/" + x + "/" + y;
      if (!cells[key]) {
        cells[key] = fetch(base + "/" + key + ".json").then(function (response) {
          if (!response.ok) { throw new Error("basemap " + response.status); }
          return response.json();
        }).then(function (body) {
          var cell = build(level, x, y, body);
          cell.layers.forEach(function (layer) { groups[level.name].addLayer(layer); });
          built[key] = cell;
          return cell;
        }).catch(function () { return null; });
      }
      return cells[key];
    }

    /* Whether detail.zip has cell (x, y): its region cell's bit, once that cell is loaded. */
    function hasDetail(x, y) {
      var region = built["region/" + Math.floor(x / 10) + "/" + Math.floor(y / 10)];
      if (!region || region.detail.length !== 25) { return false; }
      var bit = (((y % 10) + 10) % 10) * 10 + (((x % 10) + 10) % 10);
      return ((parseInt(region.detail.charAt(24 - (bit >> 2)), 16) >> (bit & 3)) & 1) === 1;
    }

    function all(level, need) {  /* whether every cell could be had */
      return Promise.all(need.map(function (c) { return fetchCell(level, c[0], c[1]); })).then(function (found) {
        return found.every(Boolean);
      });
    }

    /* Whether the view's cells of `level` are all there: a detail view needs its region cells (they
       say which detail cells exist), then those cells, each in the export's list when it has one. */
    function load(level) {
      if (level.name !== "detail") { return all(level, inView(level)); }
      return all(LEVELS[1], inView(LEVELS[1])).then(function (complete) {
        var present = inView(level).filter(function (c) { return hasDetail(c[0], c[1]); });
        var missing = limits && present.some(function (c) { return !listed[c[0] + "_" + c[1]]; });
        return complete && !missing && all(level, present);
      });
    }

    /* The finest level at or above `index` whose view is complete (world's, at worst, as it is). */
    function finest(index) {
      return load(LEVELS[index]).then(function (complete) {
        return complete || !index ? index : finest(index - 1);
      });
    }

    /* What a label must not go under: the markers and counts as they are drawn now (layer px). */
    function markerBoxes() {
      var box = map.getContainer().getBoundingClientRect(), origin = map.containerPointToLayerPoint([0, 0]);
      return Array.prototype.map.call(map.getContainer().querySelectorAll(".nm-marker:not(.nm-gathered), .nm-count"), function (node) {
        var r = node.getBoundingClientRect(), half = node.classList.contains("nm-count") ? 18 : 12;
        var x = r.left + r.width / 2 - box.left + origin.x, y = r.top + r.height / 2 - box.top + origin.y;
        return { l: x - half, t: y - half, r: x + half, b: y + half };
      });
    }

    function overlaps(a, b) {
      return a.l < b.r && b.l < a.r && a.t < b.b && b.t < a.b;
    }

    /* Labels by priority, each at its first spot clear of the markers and of the labels placed before it. */
    function relabel(level) {
      var zoom = map.getZoom(), markers = markerBoxes();
      current = level;
      labelLayer.clearLayers();
      var labels = [];
      Object.keys(built).forEach(function (key) {
        if (key.indexOf(level.name + "/") === 0) { labels = labels.concat(built[key].labels); }
      });
      labels.sort(function (a, b) {  /* the same order whichever cell came first: ties by name */
        return (priority(a) - priority(b)) || (b.rank - a.rank) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
      });
      var bounds = map.getBounds().pad(0.1), taken = [], seen = {};
      for (var i = 0; i < labels.length && taken.length < MAX_LABELS; i++) {
        var label = labels[i], key = label.layer + ":" + label.name;
        if (seen[key] || !bounds.contains(label.at) || !wanted(label, zoom)) { continue; }
        var point = map.latLngToLayerPoint(label.at), size = measure(label);
        var spot = spots(label, size).map(function (s) {
          var l = point.x + s[0], t = point.y + s[1], w = s[2] && label.layer === "town" ? size.w - 7 : size.w;
          return { s: s, box: { l: l - 2, t: t - 2, r: l + w + 2, b: t + size.h + 2 } };  /* 2 px: the halo */
        }).filter(function (c) {
          return !markers.concat(taken).some(function (other) { return overlaps(c.box, other); });
        })[0];
        if (!spot) { continue; }
        seen[key] = true;
        taken.push(spot.box);
        labelLayer.addLayer(L.marker(label.at, {
          icon: labelIcon(label, spot.s[0], spot.s[1], spot.s[2]), pane: "nm-bm-labels", interactive: false, keyboard: false
        }));
      }
    }
    map.on("nm:layout", function () {  /* markers spread or shown anew: labels give way again */
      if (current) { relabel(current); }
    });

    /* Fetch what the view lacks, then show its level (the old one stays until then: no blank map). */
    function update() {
      var token = ++latest;
      return finest(LEVELS.indexOf(levelAt(map.getZoom()))).then(function (index) {
        var level = LEVELS[index];
        if (token !== latest) { return level; }
        if (shownLevel !== level.name) {
          if (shownLevel) { groups[shownLevel].remove(); }
          groups[level.name].addTo(map);
          shownLevel = level.name;
        }
        relabel(level);
        map.getContainer().setAttribute("data-nm-ground", level.name);
        return level;
      });
    }

    map.on("moveend", function () { update(); });
    return update().then(function () {
      if (!Object.keys(built).length) {
        throw new Error("basemap: no cell could be loaded");
      }
      return spec;
    });
  }

  window.newsmapBasemap = { show: show };
}());
