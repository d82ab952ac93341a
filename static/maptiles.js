/* newsmap library map: the counts of the tiles the server gathered places in, past its limit (fetched by
   library.js only when an answer holds some). A count stands at the centre of its places and zooms in to
   its tile; a tile opens into its own answer (places, or finer counts) once it is wide on screen and in
   view, and closes again when the reader zooms out: no answer, and no map, holds more than a few thousand
   markers whatever the library's size. */
(function () {
  "use strict";
  var OPEN = 320, CLOSE = 160;  /* px: a tile opens when it is this wide on screen, and closes below that */

  window.newsmapMapTiles = function (api) {
    var core = api.core, map = api.map;

    /* A tile: its count (the look of mapcore's counts), a button that zooms in to it. */
    function tile(cell) {
      var node = { tile: cell.tile, keys: [], children: [], open: false,
        bounds: L.latLngBounds([cell.bounds[0], cell.bounds[1]], [cell.bounds[2], cell.bounds[3]]) };
      var size = core.hit + 8;
      var text = cell.count >= 10000 ? Math.round(cell.count / 1000) + "k" : String(cell.count);
      var label = cell.count + " places here. Zoom in to them";
      node.badge = L.marker([cell.lat, cell.lon], {
        icon: L.divIcon({ className: "nm-count nm-tile-count", html: core.element("span", null, text), iconSize: [size, size] }),
        keyboard: true, riseOnHover: true, zIndexOffset: 500
      });
      node.badge.on("add", function () {
        var badge = node.badge.getElement();
        badge.setAttribute("aria-label", label);
        badge.setAttribute("title", label);
        badge.setAttribute("role", "button");
        badge.setAttribute("data-tile", cell.tile);
      });
      function zoomIn() {
        map.flyToBounds(node.bounds, { padding: [core.hit, core.hit], animate: !core.reduceMotion });
      }
      node.badge.on("click", zoomIn);
      node.badge.on("keydown", function (event) {
        if (event.originalEvent.key === "Enter" || event.originalEvent.key === " ") {
          event.originalEvent.preventDefault();
          zoomIn();
        }
      });
      return node;
    }

    function add(node, cells) {
      cells.forEach(function (cell) {
        var child = tile(cell);
        node.children.push(child);
        api.counts.addLayer(child.badge);
      });
    }

    function open(child) {
      var generation = api.state.generation;
      child.open = true;
      api.fetchDoc(child.tile).then(function (doc) {
        if (generation === api.state.generation && child.open) {
          api.counts.removeLayer(child.badge);
          api.fill(child, doc);
          api.layout();
          refine();
        }
      }).catch(function () { child.open = false; });
    }

    /* Open the tiles that are wide on screen now and in view; close those that became small. */
    function refine() {
      var root = api.state.root;
      if (!root) {
        return;
      }
      var view = map.getBounds().pad(0.25), scale = 256 * Math.pow(2, map.getZoom()) / 360;
      (function walk(node) {
        node.children.forEach(function (child) {
          var width = (child.bounds.getEast() - child.bounds.getWest()) * scale;
          if (child.open && width < CLOSE) {
            api.empty(child);
            child.open = false;
            api.counts.addLayer(child.badge);
            api.layout();
          } else if (child.open) {
            walk(child);
          } else if (width >= OPEN && view.intersects(child.bounds)) {
            open(child);
          }
        });
      }(root));
    }

    return { add: add, refine: refine };
  };
}());
