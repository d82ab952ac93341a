/* The offline basemap (newsmap/serve/basemap.py): drawn when NEWSMAP_TILES=offline or tiles fail.
   Land on a water-coloured map, lakes and rivers, first-level region and country lines, and
   labels: countries, regions at mid zooms, towns by population as the reader zooms in, placed
   greedily by rank so they never overlap. Panes sit below the markers. No requests but the one
   basemap.geojson the page names; labels are text nodes, never HTML. */
(function () {
  "use strict";

  var PANES = { "nm-bm-land": 150, "nm-bm-water": 160, "nm-bm-lines": 170, "nm-bm-labels": 380 };
  var DETAIL_ZOOM = 8;  /* from here the detail cells' lines replace the overview's */
  var MAX_LABELS = 120;

  /* The smallest town labelled at each zoom (population). */
  function townFloor(zoom) {
    if (zoom >= 12) { return 0; }
    return [5e6, 5e6, 5e6, 3e6, 2e6, 1e6, 5e5, 2e5, 1e5, 3e4, 1e4, 3e3][Math.max(0, zoom)];
  }

  function wanted(feature, zoom) {
    var p = feature.properties;
    if (p.layer === "country") { return zoom <= 7 && (zoom >= 4 || p.rank > 500000); }
    if (p.layer === "region") { return zoom >= 5 && zoom <= 9; }
    return p.layer === "town" && p.rank >= townFloor(zoom) && (p.level === "detail" || zoom < DETAIL_ZOOM + 1);
  }

  function labelIcon(feature) {
    var node = document.createElement("span");
    node.textContent = feature.properties.name;
    return L.divIcon({ className: "nm-bm-label nm-bm-" + feature.properties.layer, html: node, iconSize: null });
  }

  function show(map, url) {
    return fetch(url).then(function (response) {
      if (!response.ok) { throw new Error("basemap " + response.status); }
      return response.json();
    }).then(function (collection) {
      Object.keys(PANES).forEach(function (name) {
        var pane = map.getPane(name) || map.createPane(name);
        pane.style.zIndex = PANES[name];
        if (name === "nm-bm-labels") { pane.style.pointerEvents = "none"; }
      });
      map.getContainer().classList.add("nm-basemap");
      var shapes = { land: [], lake: [], river: [], admin1: [], border: [] };
      var labels = [];
      (collection.features || []).forEach(function (feature) {
        var layer = feature.properties && feature.properties.layer;
        if (shapes[layer]) { shapes[layer].push(feature); }
        else if (feature.properties.name) { labels.push(feature); }
      });
      /* A country feature carries no level in older files: treat it as overview. */
      function draw(layer, pane, level) {
        var kept = shapes[layer].filter(function (f) { return !level || (f.properties.level || "overview") === level; });
        return L.geoJSON({ type: "FeatureCollection", features: kept }, {
          pane: pane, interactive: false, style: { className: (layer === "land" ? "nm-land " : "") + "nm-bm-" + layer }
        });
      }
      draw("land", "nm-bm-land").addTo(map);
      draw("lake", "nm-bm-water").addTo(map);
      draw("river", "nm-bm-water").addTo(map);
      var lines = {
        overview: L.layerGroup([draw("admin1", "nm-bm-lines", "overview"), draw("border", "nm-bm-lines", "overview")]),
        detail: L.layerGroup([draw("admin1", "nm-bm-lines", "detail"), draw("border", "nm-bm-lines", "detail")])
      };
      labels.sort(function (a, b) {
        var order = { country: 0, region: 1, town: 2 };
        return (order[a.properties.layer] - order[b.properties.layer]) || (b.properties.rank - a.properties.rank);
      });
      var labelLayer = L.layerGroup().addTo(map);

      function relabel() {
        var zoom = map.getZoom();
        var detailed = zoom >= DETAIL_ZOOM;
        [["overview", !detailed], ["detail", detailed]].forEach(function (pair) {
          if (pair[1]) { lines[pair[0]].addTo(map); } else { lines[pair[0]].remove(); }
        });
        labelLayer.clearLayers();
        var bounds = map.getBounds().pad(0.1), taken = [], seen = {};
        for (var i = 0; i < labels.length && taken.length < MAX_LABELS; i++) {
          var feature = labels[i], c = feature.geometry.coordinates, p = feature.properties;
          var at = L.latLng(c[1], c[0]), key = p.layer + ":" + p.name;
          if (seen[key] || !bounds.contains(at) || !wanted(feature, zoom)) { continue; }
          var point = map.latLngToLayerPoint(at);
          var width = 7 * p.name.length + 10, height = p.layer === "town" ? 16 : 20;
          var clash = taken.some(function (box) {
            return Math.abs(box.x - point.x) * 2 < box.w + width && Math.abs(box.y - point.y) * 2 < box.h + height;
          });
          if (clash) { continue; }
          seen[key] = true;
          taken.push({ x: point.x, y: point.y, w: width, h: height });
          labelLayer.addLayer(L.marker(at, { icon: labelIcon(feature), pane: "nm-bm-labels", interactive: false, keyboard: false }));
        }
      }
      map.on("zoomend moveend", relabel);
      relabel();
      return collection;
    });
  }

  window.newsmapBasemap = { show: show };
}());
