/* newsmap's sharing, fetched by newsmap.js on the first press of a share button: copying a link or
 * the embed code (with a selected field where the clipboard API is missing) and the map as a PNG,
 * drawn on a canvas from what the page shows. Builds on window.newsmap (map, registry, element). */
(function () {
  "use strict";

  var nm = window.newsmap;
  var map = nm.map, registry = nm.registry, element = nm.element;
  var shareBox = document.querySelector(".share[data-slug]");

  var EMBED_WIDTH = 640, EMBED_HEIGHT = 480;  /* as /oembed answers (newsmap/serve/embed.py) */

  function absolute(path) {
    return new URL(path, location.href).href;
  }

  function escapeAttribute(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#x27;");
  }

  /* The same snippet as oEmbed's `html` (embed.py's iframe_html), attribute for attribute. */
  function embedCode(hash) {
    var attributes = [
      ["src", absolute(shareBox.getAttribute("data-embed")) + hash], ["width", EMBED_WIDTH], ["height", EMBED_HEIGHT],
      ["title", "Map: " + shareBox.getAttribute("data-title")], ["loading", "lazy"], ["style", "border: 0"]
    ];
    return "<iframe " + attributes.map(function (pair) {
      return pair[0] + '="' + escapeAttribute(pair[1]) + '"';
    }).join(" ") + "></iframe>";
  }

  /* Without the clipboard API (an old browser, a page over plain http), a selected read-only field. */
  function copyFallback(text, holder, status) {
    var field = holder.querySelector("input.share-field");
    if (!field) {
      var label = element("label", "share-fallback", "Text to copy ");
      field = element("input", "share-field");
      field.type = "text";
      field.readOnly = true;
      label.appendChild(field);
      holder.appendChild(label);
    }
    field.value = text;
    field.focus();
    field.select();
    status.textContent = "Press Ctrl+C (⌘C on a Mac) to copy the selected text.";
  }

  function copyText(text, done, holder, status) {
    status.textContent = "";
    if (!navigator.clipboard || !navigator.clipboard.writeText) {
      copyFallback(text, holder, status);
      return;
    }
    navigator.clipboard.writeText(text).then(function () {
      status.textContent = done;
    }, function () {
      copyFallback(text, holder, status);
    });
  }

  /* Where an element is drawn, in the map container's pixels. */
  function boxIn(container, node) {
    var outer = container.getBoundingClientRect();
    var inner = node.getBoundingClientRect();
    return { x: inner.left - outer.left, y: inner.top - outer.top, w: inner.width, h: inner.height };
  }

  /* A tile again with CORS, so drawing it leaves the canvas readable; null if its server does not allow that. */
  function corsTile(src) {
    return new Promise(function (resolve) {
      var image = new Image();
      var timer = window.setTimeout(function () { resolve(null); }, 8000);
      image.crossOrigin = "anonymous";
      image.onload = function () { window.clearTimeout(timer); resolve(image); };
      image.onerror = function () { window.clearTimeout(timer); resolve(null); };
      image.src = src;
    });
  }

  /* The loaded tiles with their boxes, all drawable, or [] (one that cannot be drawn: no tiles at all). */
  function drawableTiles(container) {
    if (!registry.tiles || !map.hasLayer(registry.tiles)) {
      return Promise.resolve([]);
    }
    var tiles = Array.prototype.slice.call(registry.tiles.getContainer().querySelectorAll("img.leaflet-tile-loaded"));
    var boxes = tiles.map(function (tile) { return boxIn(container, tile); });
    return Promise.all(tiles.map(function (tile) { return corsTile(tile.src); })).then(function (images) {
      if (images.some(function (image) { return !image; })) {
        return [];
      }
      return images.map(function (image, i) { return { image: image, box: boxes[i] }; });
    });
  }

  /* The map's own shapes as the page draws them, pane by pane: the offline basemap's land, water
   * and lines under the tiles, the legs of spread markers over them. */
  function drawShapes(ctx, container, selector) {
    var origin = map.layerPointToContainerPoint([0, 0]);
    var paths = Array.prototype.slice.call(container.querySelectorAll(selector));
    function depth(path) {
      var pane = path.closest(".leaflet-pane");
      return Number(pane && getComputedStyle(pane).zIndex) || 0;
    }
    paths.sort(function (a, b) { return depth(a) - depth(b); });
    paths.forEach(function (path) {
      var style = getComputedStyle(path);
      var shape = new Path2D(path.getAttribute("d") || "");
      ctx.save();
      ctx.translate(origin.x, origin.y);
      if (style.fill !== "none") {
        ctx.globalAlpha = Number(style.fillOpacity);
        ctx.fillStyle = style.fill;
        ctx.fill(shape, "evenodd");
      }
      if (style.stroke !== "none") {
        ctx.globalAlpha = Number(style.strokeOpacity);
        ctx.strokeStyle = style.stroke;
        ctx.lineWidth = parseFloat(style.strokeWidth) || 1;
        ctx.setLineDash(style.strokeDasharray === "none" ? [] : style.strokeDasharray.split(/[ ,]+/).map(parseFloat));
        ctx.stroke(shape);
      }
      ctx.restore();
    });
  }

  /* The offline basemap's labels where the page shows them, in their font and colour, with a halo. */
  function drawLabels(ctx, container) {
    container.querySelectorAll(".nm-bm-label span").forEach(function (label) {
      var box = boxIn(container, label);
      var style = getComputedStyle(label);
      ctx.save();
      ctx.font = style.fontWeight + " " + style.fontSize + " " + style.fontFamily;
      ctx.textBaseline = "middle";
      var text = style.textTransform === "uppercase" ? label.textContent.toUpperCase() : label.textContent;
      var x = box.x + (label.closest(".nm-bm-town:not(.nm-bm-moved)") ? 7 : 0), y = box.y + box.h / 2;
      ctx.lineWidth = 3;
      ctx.strokeStyle = "rgba(255, 255, 255, 0.9)";
      ctx.strokeText(text, x, y);
      ctx.fillStyle = style.color;
      ctx.fillText(text, x, y);
      ctx.restore();
    });
  }

  /* A count of gathered markers: a dark disc with its number. */
  function drawCounts(ctx, container, width, height) {
    container.querySelectorAll(".nm-count").forEach(function (icon) {
      var box = boxIn(container, icon);
      var x = box.x + box.w / 2, y = box.y + box.h / 2;
      if (x < -20 || y < -20 || x > width + 20 || y > height + 20) {
        return;
      }
      ctx.save();
      ctx.beginPath();
      ctx.arc(x, y, 15, 0, 2 * Math.PI);
      ctx.fillStyle = "#1d232b";
      ctx.fill();
      ctx.lineWidth = 2;
      ctx.strokeStyle = "#ffffff";
      ctx.stroke();
      ctx.fillStyle = "#ffffff";
      ctx.font = "700 13px " + getComputedStyle(document.body).fontFamily;
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText(icon.textContent, x, y);
      ctx.restore();
    });
  }

  /* Each marker on the map as the page shows it: its family's colour and shape, white rim, dark edge. */
  function drawMarkers(ctx, container, width, height) {
    Object.keys(registry.markers).forEach(function (id) {
      var marker = registry.markers[id];
      var icon = map.hasLayer(marker) && marker.getElement();
      if (!icon || icon.classList.contains("nm-gathered")) {
        return;  /* off the map, or under a count */
      }
      var box = boxIn(container, icon);
      var x = box.x + box.w / 2, y = box.y + box.h / 2;
      if (x < -10 || y < -10 || x > width + 10 || y > height + 10) {
        return;
      }
      var r = icon.classList.contains("nm-precision-country") ? 6 : 8;
      ctx.save();
      ctx.translate(x, y);
      ctx.globalAlpha = icon.classList.contains("nm-precision-country") ? 0.8 : 1;
      ctx.beginPath();
      if (icon.classList.contains("nm-fam-military")) {
        ctx.rotate(Math.PI / 4);
        ctx.rect(-r * 0.85, -r * 0.85, r * 1.7, r * 1.7);
      } else if (icon.classList.contains("nm-fam-proposed")) {
        ctx.rect(-r, -r, 2 * r, 2 * r);
      } else {
        ctx.arc(0, 0, r, 0, 2 * Math.PI);
      }
      ctx.fillStyle = getComputedStyle(icon, "::before").backgroundColor;
      ctx.fill();
      ctx.lineWidth = 2;
      ctx.strokeStyle = "#ffffff";
      ctx.stroke();
      ctx.lineWidth = 1;
      ctx.strokeStyle = "rgba(0, 0, 0, 0.55)";
      ctx.stroke();
      ctx.restore();
    });
  }

  /* The legend as the page shows it (its checked categories: what the map shows), in a white box at
   * the map's bottom left: an image shared alone must say what its shapes and colours mean. Returns
   * the box drawn, in the canvas's CSS pixels below the title line. */
  function drawLegend(ctx, width, height) {
    var rows = Array.prototype.filter.call(document.querySelectorAll(".legend label"), function (row) {
      var box = row.querySelector("input");
      return !box || box.checked;
    }).map(function (row) {
      var swatch = row.querySelector(".swatch");
      var family = ((swatch && swatch.className.match(/nm-fam-(\w+)/)) || [])[1] || "other";
      return { text: row.textContent.replace(/\s+/g, " ").trim(), family: family,
        colour: swatch ? getComputedStyle(swatch).backgroundColor : "#59636e" };
    });
    if (!rows.length) {
      return null;
    }
    var font = getComputedStyle(document.body).fontFamily, line = 18, pad = 8;
    ctx.save();
    ctx.font = "12px " + font;
    var w = Math.min(width - 20, pad * 2 + 18 + Math.max.apply(null, rows.map(function (r) { return ctx.measureText(r.text).width; })));
    var h = pad * 2 + line * rows.length, x = 10, y = height - h - 10;
    ctx.fillStyle = "rgba(255, 255, 255, 0.94)";
    ctx.strokeStyle = "#d9dee3";
    ctx.beginPath();
    ctx.rect(x, y, w, h);
    ctx.fill();
    ctx.stroke();
    ctx.textBaseline = "middle";
    rows.forEach(function (row, i) {
      var cx = x + pad + 6, cy = y + pad + line * i + line / 2;
      ctx.fillStyle = row.colour;
      ctx.beginPath();
      if (row.family === "military") {
        ctx.moveTo(cx, cy - 6); ctx.lineTo(cx + 6, cy); ctx.lineTo(cx, cy + 6); ctx.lineTo(cx - 6, cy);
      } else if (row.family === "proposed") {
        ctx.rect(cx - 5, cy - 5, 10, 10);
      } else {
        ctx.arc(cx, cy, 5, 0, 2 * Math.PI);
      }
      ctx.fill();
      ctx.fillStyle = "#1d232b";
      ctx.fillText(fitText(ctx, row.text, w - pad * 2 - 18), x + pad + 18, cy);
    });
    ctx.restore();
    return { x: x, y: y, w: w, h: h, rows: rows.length };
  }

  function fitText(ctx, text, width) {
    if (ctx.measureText(text).width <= width) {
      return text;
    }
    while (text && ctx.measureText(text + "…").width > width) {
      text = text.slice(0, -1);
    }
    return text + "…";
  }

  var HEAD = 40, FOOT = 26;  /* the title line above the map, the attribution line below, in CSS pixels */

  function paint(tiles) {
    var container = map.getContainer();
    var size = map.getSize();
    var ratio = Math.min(window.devicePixelRatio || 1, 2);
    var canvas = document.createElement("canvas");
    canvas.width = Math.round(size.x * ratio);
    canvas.height = Math.round((size.y + HEAD + FOOT) * ratio);
    var ctx = canvas.getContext("2d");
    ctx.scale(ratio, ratio);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, size.x, size.y + HEAD + FOOT);
    var font = getComputedStyle(document.body).fontFamily;
    ctx.fillStyle = "#1d232b";
    ctx.font = "600 16px " + font;
    ctx.textBaseline = "middle";
    ctx.fillText(fitText(ctx, shareBox.getAttribute("data-title"), size.x - 24), 12, HEAD / 2);
    ctx.save();
    ctx.translate(0, HEAD);
    ctx.beginPath();
    ctx.rect(0, 0, size.x, size.y);
    ctx.clip();
    ctx.fillStyle = getComputedStyle(container).backgroundColor;
    ctx.fillRect(0, 0, size.x, size.y);
    drawShapes(ctx, container, "path.nm-land, path[class*='nm-bm-']");
    tiles.forEach(function (tile) {
      ctx.drawImage(tile.image, tile.box.x, tile.box.y, tile.box.w, tile.box.h);
    });
    drawLabels(ctx, container);
    drawShapes(ctx, container, "path.nm-leg");
    drawMarkers(ctx, container, size.x, size.y);
    drawCounts(ctx, container, size.x, size.y);
    canvas.nmLegend = drawLegend(ctx, size.x, size.y);
    ctx.restore();
    var attribution = container.querySelector(".leaflet-control-attribution");
    var credit = "newsmap · " + absolute(shareBox.getAttribute("data-page")) +
      (tiles.length && attribution ? " · " + attribution.textContent.replace(/\s+/g, " ").trim() : " · newsmap offline basemap: Natural Earth, © OpenStreetMap contributors, GeoNames");
    ctx.fillStyle = "#4f5b67";
    ctx.font = "11px " + font;
    ctx.fillText(fitText(ctx, credit, size.x - 24), 12, HEAD + size.y + FOOT / 2);
    return canvas;
  }

  /* The map as it is now, on a canvas; tiles only when every one can be drawn without tainting it. */
  function mapCanvas() {
    return drawableTiles(map.getContainer()).then(function (tiles) {
      var canvas = paint(tiles);
      try {
        canvas.getContext("2d").getImageData(0, 0, 1, 1);  /* throws if a tile tainted it after all */
        return canvas;
      } catch (error) {
        return paint([]);
      }
    });
  }

  function downloadPng(button, status) {
    button.disabled = true;
    status.textContent = "Drawing the map…";
    mapCanvas().then(function (canvas) {
      return new Promise(function (resolve, reject) {
        canvas.toBlob(function (blob) { return blob ? resolve(blob) : reject(new Error("no image")); }, "image/png");
      });
    }).then(function (blob) {
      var link = element("a");
      link.href = URL.createObjectURL(blob);
      link.download = shareBox.getAttribute("data-slug") + "-map.png";
      document.body.appendChild(link);
      link.click();
      link.remove();
      window.setTimeout(function () { URL.revokeObjectURL(link.href); }, 60000);
      status.textContent = "Map image downloaded";
    }).catch(function () {
      status.textContent = "The map image could not be made.";
    }).then(function () {
      button.disabled = false;
    });
  }

  window.newsmapShare = {
    absolute: absolute, embedCode: embedCode, copyText: copyText, downloadPng: downloadPng, mapCanvas: mapCanvas
  };
}());
