/* newsmap library page: one map of the listed articles' places, each marker linking to its article.
   Every text from the data reaches the page through textContent. The list of articles is the map's
   accessible twin. Old "/#<place id>" links (made when "/" was one article's page) are sent on. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("newsmap-data").textContent);

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

  var element = document.getElementById("library-map");
  if (!element || !window.L || !data.places.length) {
    return;
  }
  var map = L.map(element, { worldCopyJump: true, scrollWheelZoom: false });
  var status = document.querySelector(".library-map .map-status");
  if (data.tiles !== "offline") {
    var tiles = L.tileLayer(data.tiles, { maxZoom: 18, attribution: "© OpenStreetMap contributors" }).addTo(map);
    var loaded = false;
    tiles.on("tileload", function () { loaded = true; });
    tiles.on("tileerror", function () {
      if (!loaded && status) {
        status.textContent = "Map tiles could not load: the markers are still placed right.";
      }
    });
  }
  var colours = { military: "#b3261e", proposed: "#b35300", meeting: "#1f5fa8", other: "#59636e" };
  var bounds = [];
  data.places.forEach(function (place) {
    var marker = L.circleMarker([place.lat, place.lon], {
      radius: place.precision === "country" ? 5 : 7,
      color: "#fff", weight: 1.5, fillOpacity: 0.9,
      fillColor: colours[place.family] || colours.other
    }).addTo(map);
    var label = document.createElement("span");
    var name = document.createElement("strong");
    name.textContent = place.name;
    label.appendChild(name);
    label.appendChild(document.createElement("br"));
    label.appendChild(document.createTextNode(place.title));
    marker.bindTooltip(label);
    marker.on("click", function () {
      location.href = articleUrl(place.article) + "#" + encodeURIComponent(place.id);
    });
    if (place.precision !== "country") {
      bounds.push([place.lat, place.lon]);
    }
  });
  if (!bounds.length) {
    data.places.forEach(function (place) { bounds.push([place.lat, place.lon]); });
  }
  map.fitBounds(bounds, { padding: [20, 20], maxZoom: 8 });
}());
