/* newsmap place page (/places/<key>): a small map of the place, drawn as every newsmap map is
 * (mapcore.js, loaded before this script: the marker's shape and colour by family, newsmap's
 * offline basemap when tiles fail or are off). Everything else on the page is its HTML; the one
 * text from the data (the place's name) reaches the page through setAttribute and textContent. */
(function () {
  "use strict";
  var dataElement = document.getElementById("newsmap-data");
  var holder = document.getElementById("place-map");
  var core = window.newsmapCore;
  if (!dataElement || !holder || !window.L || !core) {
    return;
  }
  var data = JSON.parse(dataElement.textContent);
  var place = data.place;
  var map = L.map(holder, { scrollWheelZoom: false, maxZoom: 18 });
  var tiles = data.tiles === "offline" ? null
    : L.tileLayer(data.tiles, { maxZoom: 18, attribution: "© OpenStreetMap contributors" }).addTo(map);
  L.control.scale().addTo(map);
  map.setView([place.lat, place.lon], Math.min(data.zoom[place.precision] || 8, 9));
  var marker = L.marker([place.lat, place.lon], { icon: core.icon(place), keyboard: false }).addTo(map);
  marker.bindTooltip(core.element("span", null, place.name), { direction: "top", offset: [0, -10] });
  var node = marker.getElement();
  if (node) {
    node.setAttribute("aria-hidden", "true");  /* the page's heading names it; the map is a picture of where */
  }
  window.newsmapRegistry = { map: map, tiles: tiles, markers: { place: marker } };  /* for tests and scripts */
  core.ground(map, tiles, data.basemap, dataElement.getAttribute("data-basemap-script"),
    document.querySelector(".place-map-panel .map-status"));
}());
