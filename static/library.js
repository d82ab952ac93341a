/* newsmap library page: one map of the listed articles' places, each marker linking to its article.
   The markers are the article pages' (mapcore.js, sent in front of this script): shapes and colours
   by family, spread or gathered where they would cover each other, newsmap's offline basemap when
   tiles fail. Every text from the data reaches the page through textContent. The list of articles
   is the map's accessible twin. Old "/#<place id>" links (made when "/" was one article's page) are
   sent on. */
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
  if (!holder || !window.L || !core || !data.places.length) {
    return;
  }
  var map = L.map(holder, { worldCopyJump: true, scrollWheelZoom: false, maxZoom: 18 });
  var tiles = data.tiles === "offline" ? null
    : L.tileLayer(data.tiles, { maxZoom: 18, attribution: "© OpenStreetMap contributors" }).addTo(map);
  L.control.scale().addTo(map);
  var markers = {}, names = {}, bounds = [];
  data.places.forEach(function (place) {
    var key = place.article + "#" + place.id;  /* ids are an article's own: two articles may name Bishkek */
    var href = articleUrl(place.article) + "#" + encodeURIComponent(place.id);
    var marker = L.marker([place.lat, place.lon], { icon: core.icon(place), riseOnHover: true });
    names[key] = place.name;
    marker.on("add", function () {
      var node = marker.getElement();
      node.setAttribute("aria-label", place.name + ": " + place.title);
      node.setAttribute("data-place", key);
    });
    var label = core.element("span");
    label.appendChild(core.element("strong", null, place.name));
    label.appendChild(document.createElement("br"));
    label.appendChild(document.createTextNode(place.title));
    marker.bindTooltip(label, { direction: "top", offset: [0, -10] });
    marker.on("click", function () { location.href = href; });
    marker.on("keypress", function (event) {
      if (event.originalEvent.key === "Enter") {
        location.href = href;
      }
    });
    markers[key] = marker.addTo(map);
    if (place.precision !== "country") {
      bounds.push([place.lat, place.lon]);
    }
  });
  if (!bounds.length) {
    data.places.forEach(function (place) { bounds.push([place.lat, place.lon]); });
  }
  map.fitBounds(bounds, { padding: [20, 20], maxZoom: 8 });
  core.spreader(map, markers, function (key) { return names[key]; });
  window.newsmapRegistry = { map: map, tiles: tiles, markers: markers };  /* as an article page has it, for tests and scripts */
  core.ground(map, tiles, data.basemap, dataElement.getAttribute("data-basemap-script"),
    document.querySelector(".library-map .map-status"));
}());
