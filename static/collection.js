/* newsmap collection page (and its embed): one map of every place the collection's articles name,
   with a time control that steps through the articles by date.

   The markers are the article pages' (mapcore.js, loaded before this script): shapes and colours by
   family, spread or gathered where they would cover each other, newsmap's offline basemap when tiles
   fail. The time control shows the places of the articles up to the current step (the earlier ones
   faded), or of that article alone, and moves the map to the current article's places; the legend
   hides and shows categories. Every text from the data reaches the page through textContent or
   .value, never as markup. The list of articles (each with its places' names) is the map's
   accessible twin. */
(function () {
  "use strict";
  var dataElement = document.getElementById("newsmap-data");
  if (!dataElement) {
    return;
  }
  var data = JSON.parse(dataElement.textContent);
  var core = window.newsmapCore;

  /* The embed code: the embed page's <iframe>, at the address this page was reached at (the page is
     built once for every host it may be asked at, and in a static export its link is relative). */
  function escaped(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#x27;");
  }
  var code = document.getElementById("nm-embed-code");
  if (code) {
    var src = new URL(code.getAttribute("data-embed"), location.href).href;
    var heading = document.querySelector("h1");
    code.value = '<iframe src="' + escaped(src) + '" width="640" height="480" title="' +
      escaped("Map: " + (heading ? heading.textContent : "")) + '" loading="lazy" style="border: 0"></iframe>';
    code.addEventListener("focus", function () { code.select(); });
  }

  var holder = document.getElementById("collection-map");
  if (!holder || !window.L || !core || !data.places.length) {
    return;
  }
  var element = core.element;
  var reduceMotion = core.reduceMotion;

  /* An article's page: "/articles/<slug>" on the server, a relative file in a static export. */
  function articleUrl(slug) {
    return data.articleLink.replace("{slug}", encodeURIComponent(slug));
  }

  var map = L.map(holder, { worldCopyJump: true, maxZoom: 18 });
  var tiles = data.tiles === "offline" ? null
    : L.tileLayer(data.tiles, { maxZoom: 18, attribution: "© OpenStreetMap contributors" }).addTo(map);
  L.control.scale().addTo(map);

  var count = data.steps.length;
  var rank = {};  /* article index -> its step, 0 for the earliest */
  data.steps.forEach(function (article, step) { rank[article] = step; });
  var state = { step: count - 1, earlier: true, hidden: {} };

  /* ---------------------------------------------------------------- markers */

  function popup(place, article) {
    var box = element("div", "nm-story-popup");
    box.appendChild(element("h2", null, place.shown));
    box.appendChild(element("p", "kind", place.kind + (place.status ? ", " + place.status : "") + " · " + place.category));
    if (place.quote) {
      box.appendChild(element("blockquote", null, place.quote));
    }
    var from = element("p");
    var link = element("a", null, article.title);
    link.href = articleUrl(article.slug) + "#" + encodeURIComponent(place.id);
    if (data.embed) {
      link.target = "_blank";
      link.rel = "noopener";
    }
    from.appendChild(document.createTextNode("In "));
    from.appendChild(link);
    if (article.date) {
      from.appendChild(document.createTextNode(" (" + article.date + ")"));
    }
    box.appendChild(from);
    return box;
  }

  function decorate(place, marker) {
    var node = marker.getElement();
    if (!node) {
      return;
    }
    var article = data.articles[place.a];
    node.setAttribute("aria-label", place.shown + ", " + place.kind + ": " + article.title + (article.date ? " (" + article.date + ")" : ""));
    node.setAttribute("data-place", article.slug + "#" + place.id);
    node.classList.toggle("nm-earlier", rank[place.a] < state.step);
  }

  var markers = {}, places = {};
  data.places.forEach(function (place) {
    var article = data.articles[place.a];
    var key = article.slug + "#" + place.id;  /* ids are an article's own: two articles may name Bishkek */
    var marker = L.marker([place.lat, place.lon], { icon: core.icon(place), riseOnHover: true });
    var label = element("span");
    label.appendChild(element("strong", null, place.shown));
    label.appendChild(document.createElement("br"));
    label.appendChild(document.createTextNode(article.title));
    marker.bindTooltip(label, { direction: "top", offset: [0, -10] });
    marker.bindPopup(function () { return popup(place, article); }, { maxWidth: 300 });
    marker.on("add", function () { decorate(place, marker); });
    markers[key] = marker;
    places[key] = place;
  });

  /* ---------------------------------------------------------------- what is shown */

  function shown(place) {
    var step = rank[place.a];
    return !state.hidden[place.cat] && (state.earlier ? step <= state.step : step === state.step);
  }

  function refresh() {
    Object.keys(markers).forEach(function (key) {
      var marker = markers[key];
      var on = shown(places[key]);
      if (on && !map.hasLayer(marker)) {
        marker.addTo(map);
      } else if (!on && map.hasLayer(marker)) {
        map.removeLayer(marker);
      } else if (on) {
        decorate(places[key], marker);
      }
    });
    describe();
  }

  var slider = document.getElementById("nm-step");
  var status = document.getElementById("nm-step-status");

  /* The slider, the buttons, the status line and the list say where the story is. */
  function describe() {
    var article = data.articles[data.steps[state.step]];
    var where = (state.step + 1) + " of " + count + (article.date ? ", " + article.date : "");
    if (slider) {
      slider.value = String(state.step + 1);
      slider.setAttribute("aria-valuetext", where + ": " + article.title);
    }
    document.querySelectorAll("[data-move]").forEach(function (button) {
      var next = state.step + Number(button.getAttribute("data-move"));
      button.disabled = next < 0 || next >= count;
    });
    if (status) {
      var own = data.places.filter(function (p) { return p.a === data.steps[state.step]; }).length;
      status.textContent = "";
      status.appendChild(document.createTextNode("Article " + where + ": "));
      status.appendChild(element("b", null, article.title));
      status.appendChild(document.createTextNode(" · " + own + " place" + (own === 1 ? "" : "s") +
        (state.earlier && state.step > 0 ? ", with the earlier articles' places faded" : "")));
    }
    document.querySelectorAll(".story-item[data-step]").forEach(function (item) {
      var step = Number(item.getAttribute("data-step")) - 1;
      item.classList.toggle("is-current", step === state.step);
      item.classList.toggle("is-later", step > state.step);
      if (step === state.step) {
        item.setAttribute("aria-current", "step");
      } else {
        item.removeAttribute("aria-current");
      }
    });
  }

  /* Go to a step; the map moves to that article's places. */
  function go(step, move) {
    state.step = Math.max(0, Math.min(count - 1, step));
    refresh();
    var box = data.articles[data.steps[state.step]].bounds;
    if (move && box) {
      map.flyToBounds(box, { padding: [40, 40], maxZoom: 9, animate: !reduceMotion, duration: 0.8 });
    }
  }

  refresh();
  map.fitBounds(data.bounds, { padding: [30, 30], maxZoom: 9 });
  core.spreader(map, markers, function (key) { return places[key].shown; });

  var timeline = document.querySelector(".timeline");
  if (timeline && slider) {
    timeline.hidden = false;
    slider.addEventListener("input", function () { go(Number(slider.value) - 1, true); });
    timeline.querySelectorAll("[data-move]").forEach(function (button) {
      button.addEventListener("click", function () { go(state.step + Number(button.getAttribute("data-move")), true); });
    });
    var earlier = document.getElementById("nm-earlier");
    earlier.addEventListener("change", function () {
      state.earlier = earlier.checked;
      refresh();
    });
  }
  var narrow = window.matchMedia ? window.matchMedia("(max-width: 700px)") : { matches: false };
  document.querySelectorAll("[data-show]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      go(Number(button.getAttribute("data-show")) - 1, true);
      if (narrow.matches && !data.embed) {
        holder.scrollIntoView({ behavior: reduceMotion ? "auto" : "smooth" });
      }
    });
  });
  document.querySelectorAll(".legend input[data-category]").forEach(function (box) {
    box.addEventListener("change", function () {
      state.hidden[box.getAttribute("data-category")] = !box.checked;
      refresh();
    });
  });

  window.newsmapRegistry = { map: map, tiles: tiles, markers: markers };  /* as an article page has it, for tests and scripts */
  window.newsmapStory = {
    go: go,
    step: function () { return state.step; },
    shown: function () { return Object.keys(markers).filter(function (key) { return map.hasLayer(markers[key]); }); }
  };
  core.ground(map, tiles, data.basemap, dataElement.getAttribute("data-basemap-script"), document.querySelector(".map-status"));
}());
