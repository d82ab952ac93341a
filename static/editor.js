/* newsmap editing: the controls an editor gets on /articles/<slug>/edit, on top of newsmap.js.
 *
 * Each change is one request to the editing API, with the page's CSRF token and, for a place,
 * its ETag in If-Match (someone else's change in between gets a 409, shown, never overwritten).
 * Once saved, the page reloads on the place: what the editor then sees is what readers get.
 * Every string from the data reaches the page through textContent, never innerHTML.
 */
(function () {
  "use strict";

  var nm = window.newsmap;
  if (!nm || !nm.data.edit) {
    return;
  }
  var edit = nm.data.edit;
  Object.keys(nm.places).forEach(function (id) {  /* readers' pages carry no offsets: the editing page does */
    nm.places[id].mentions = edit.mentions[id] || [];
    nm.places[id].source = edit.sources[id];
  });
  var tokenMeta = document.querySelector('meta[name="csrf-token"]');
  var token = tokenMeta ? tokenMeta.getAttribute("content") : "";
  var base = "/api/articles/" + encodeURIComponent(edit.slug);
  var panel = document.getElementById("nm-edit-panel");
  var messageLine = document.querySelector(".edit-message");
  var alertLine = document.querySelector(".edit-alert");
  var addButton = document.getElementById("nm-add-selection");
  var picking = null;
  var chosenText = null;
  var MESSAGE_KEY = "newsmap-edit-message";

  var element = nm.element;  /* newsmap.js's: an element with a class and text, never HTML */

  function button(label, onClick, className) {
    var node = element("button", className || null, label);
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }

  function say(text) {
    alertLine.textContent = "";
    messageLine.textContent = text;
  }

  function warn(text, withReload) {
    messageLine.textContent = "";
    alertLine.textContent = text;
    if (withReload) {
      alertLine.appendChild(document.createTextNode(" "));
      alertLine.appendChild(button("Reload", function () { location.reload(); }));
    }
  }

  function request(method, url, body, etag) {
    var headers = { "X-CSRFToken": token, "Accept": "application/json" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
    }
    if (etag) {
      headers["If-Match"] = '"' + etag + '"';
    }
    return fetch(url, {
      method: method,
      headers: headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        return { ok: response.ok, status: response.status, body: json };
      });
    }).catch(function () {
      return { ok: false, status: 0, body: { message: "The server could not be reached" } };
    });
  }

  /* A saved change reloads the page on the place it touched; anything else is said in the alert line. */
  function saved(result, what, placeId) {
    if (result.ok) {
      sessionStorage.setItem(MESSAGE_KEY, what);
      var target = placeId || (result.body.place && result.body.place.id) || "";
      history.replaceState(null, "", location.pathname + (target ? "#" + encodeURIComponent(target) : ""));
      location.reload();
      return;
    }
    if (result.status === 409 && result.body.current) {
      warn("Not saved: " + result.body.message, true);
    } else {
      warn("Not saved: " + (result.body.message || "the server answered " + result.status));
    }
  }

  function noteField(container) {
    var label = element("label", "nm-field", "Why (a note kept in the history)");
    var note = element("textarea");
    note.rows = 2;
    note.maxLength = 1000;
    note.className = "nm-note";
    label.appendChild(note);
    container.appendChild(label);
    return note;
  }

  function sentenceOf(mention) {
    var node = document.getElementById("sentence-" + mention[0]);
    return node ? node.textContent : "";
  }

  function describe(candidate) {
    var parts = [candidate.kind, [candidate.admin1, candidate.country].filter(Boolean).join(", ")];
    if (candidate.population) {
      parts.push("population " + candidate.population.toLocaleString("en"));
    }
    if (candidate.km !== null && candidate.km !== undefined) {
      parts.push(candidate.km + " km from the current point");
    }
    return candidate.name + " — " + parts.filter(Boolean).join(" · ");
  }

  /* A list of gazetteer entries, each with a button that uses it. */
  function candidateList(list, entries, use) {
    list.textContent = "";
    if (!entries.length) {
      list.appendChild(element("li", "hint", "Nothing found."));
    }
    entries.forEach(function (candidate) {
      var item = element("li");
      item.appendChild(element("span", null, describe(candidate)));
      item.appendChild(document.createTextNode(" "));
      var use_ = button(candidate.current ? "Current" : "Use this", function () { use(candidate); });
      use_.disabled = !!candidate.current;
      use_.setAttribute("aria-label", (candidate.current ? "Current: " : "Use ") + candidate.name + ", " + candidate.kind);
      item.appendChild(use_);
      list.appendChild(item);
    });
  }

  function searchForm(container, initial, near, use) {
    var form = element("form", "nm-search");
    form.setAttribute("role", "search");
    var label = element("label", "nm-field", "Search the gazetteer");
    var input = element("input");
    input.type = "search";
    input.value = initial || "";
    input.minLength = 2;
    label.appendChild(input);
    form.appendChild(label);
    var go = element("button", null, "Search");
    go.type = "submit";
    form.appendChild(go);
    var results = element("ul", "nm-candidates");
    results.setAttribute("aria-live", "polite");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var query = input.value.trim();
      if (query.length < 2) {
        results.textContent = "";
        results.appendChild(element("li", "hint", "Type at least 2 letters."));
        return;
      }
      var url = "/api/gazetteer?q=" + encodeURIComponent(query) + (near ? "&lat=" + near.lat + "&lon=" + near.lon : "");
      request("GET", url).then(function (result) {
        if (!result.ok) {
          warn("Search failed: " + (result.body.message || result.status));
          return;
        }
        candidateList(results, result.body.results || [], use);
        if (result.body.warning) {
          results.appendChild(element("li", "hint", result.body.warning));
        }
      });
    });
    container.appendChild(form);
    container.appendChild(results);
  }

  /* "Put it here": drag the marker or click the map; Esc cancels. */
  function startPicking(marker, onPoint) {
    stopPicking();
    var map = nm.map;
    function clicked(event) {
      stopPicking();
      onPoint(event.latlng.lat, event.latlng.lng);
    }
    function dragged() {
      var point = marker.getLatLng();
      stopPicking();
      onPoint(point.lat, point.lng);
    }
    map.on("click", clicked);
    if (marker && marker.dragging) {
      marker.dragging.enable();
      marker.on("dragend", dragged);
    }
    map.getContainer().classList.add("nm-picking");
    picking = { marker: marker, clicked: clicked, dragged: dragged };
    say(marker ? "Drag the marker, or click the map where the place is (Esc cancels)." : "Click the map where the place is (Esc cancels).");
  }

  function stopPicking() {
    if (!picking) {
      return;
    }
    nm.map.off("click", picking.clicked);
    if (picking.marker && picking.marker.dragging) {
      picking.marker.off("dragend", picking.dragged);
      picking.marker.dragging.disable();
    }
    nm.map.getContainer().classList.remove("nm-picking");
    picking = null;
  }

  function showPanel(title) {
    stopPicking();
    panel.textContent = "";
    panel.hidden = false;
    var heading = element("h2", null, title);
    heading.id = "nm-edit-title";
    panel.appendChild(heading);
    return panel;
  }

  function closeButton() {
    return button("Close", function () {
      stopPicking();
      panel.hidden = true;
    }, "nm-close");
  }

  function field(form, labelText, value, type) {
    var label = element("label", "nm-field", labelText);
    var input = element("input");
    input.type = type || "text";
    input.value = value === undefined || value === null ? "" : String(value);
    if (type === "number") {
      input.step = "any";
    }
    label.appendChild(input);
    form.appendChild(label);
    return input;
  }

  function categoryField(form, value) {
    var input = field(form, "Category", value);
    var list = element("datalist");
    list.id = "nm-categories";
    edit.categories.forEach(function (label) {
      var option = element("option");
      option.value = label;
      list.appendChild(option);
    });
    form.appendChild(list);
    input.setAttribute("list", list.id);
    return input;
  }

  function precisionField(form, value) {
    var label = element("label", "nm-field", "Precision");
    var select = element("select");
    edit.precisions.forEach(function (name) {
      var option = element("option", null, name);
      option.value = name;
      option.selected = name === value;
      select.appendChild(option);
    });
    label.appendChild(select);
    form.appendChild(label);
    return select;
  }

  // ------------------------------------------------------------------ a place

  function openEditor(id) {
    var place = nm.places[id];
    if (!place) {
      return;
    }
    var etag = edit.etags[id];
    var target = base + "/places/" + encodeURIComponent(id);
    var root = showPanel("Edit “" + place.shown + "”");
    root.appendChild(element("p", "hint", "Now at " + place.lat.toFixed(5) + ", " + place.lon.toFixed(5) +
      " (" + place.precision + ") · " + place.source));
    var note = noteField(root);

    root.appendChild(element("h3", null, "Wrong place?"));
    root.appendChild(element("p", "hint", "What the gazetteer has for this place's names:"));
    var list = element("ul", "nm-candidates");
    list.appendChild(element("li", "hint", "Loading…"));
    root.appendChild(list);
    function use(candidate) {
      request("PATCH", target, { candidate: candidate.key, note: note.value }, etag).then(function (result) {
        saved(result, "Moved “" + place.shown + "” to " + describe(candidate) + ".", id);
      });
    }
    request("GET", target + "/candidates").then(function (result) {
      candidateList(list, result.ok ? result.body.candidates : [], use);
    });
    searchForm(root, "", place, use);
    root.appendChild(button("Put it on the map by hand", function () {
      startPicking(nm.registry.markers[id], function (lat, lon) {
        request("PATCH", target, { lat: lat, lon: lon, precision: "manual", note: note.value }, etag).then(function (result) {
          saved(result, "Put “" + place.shown + "” at " + lat.toFixed(5) + ", " + lon.toFixed(5) + ".", id);
        });
      });
    }, "nm-pick"));

    rowForm(root, place, target, etag, note);
    mentionList(root, place, etag, note);

    var remove = button("Not a place: remove it from the map", function () {
      if (!remove.classList.contains("is-armed")) {
        remove.classList.add("is-armed");
        remove.textContent = "Remove “" + place.shown + "” and unlink its " + place.mentions.length + " mention(s)? Press again to confirm";
        return;
      }
      request("DELETE", target, { note: note.value }, etag).then(function (result) {
        saved(result, "Removed “" + place.shown + "” from the map (the text stays).", "");
      });
    }, "nm-danger");
    root.appendChild(remove);
    root.appendChild(closeButton());
    root.focus();
  }

  function rowForm(root, place, target, etag, note) {
    root.appendChild(element("h3", null, "Edit the row"));
    var form = element("form", "nm-row");
    var inputs = {
      name: field(form, "Name shown", place.shown),
      kind: field(form, "Kind", place.kind),
      category: categoryField(form, place.category),
      status: field(form, "Status", place.status),
      precision: precisionField(form, place.precision),
      lat: field(form, "Latitude", place.lat, "number"),
      lon: field(form, "Longitude", place.lon, "number")
    };
    var save = element("button", null, "Save");
    save.type = "submit";
    form.appendChild(save);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = { note: note.value };
      var was = { name: place.shown, kind: place.kind, category: place.category, status: place.status, precision: place.precision };
      Object.keys(was).forEach(function (key) {
        if (inputs[key].value.trim() !== String(was[key])) {
          body[key] = inputs[key].value.trim();
        }
      });
      var lat = parseFloat(inputs.lat.value);
      var lon = parseFloat(inputs.lon.value);
      if (lat !== place.lat || lon !== place.lon) {
        body.lat = lat;
        body.lon = lon;
        body.precision = inputs.precision.value;
      }
      if (Object.keys(body).length === 1) {
        say("Nothing changed.");
        return;
      }
      request("PATCH", target, body, etag).then(function (result) {
        saved(result, "Saved “" + (body.name || place.shown) + "”.", place.id);
      });
    });
    root.appendChild(form);
  }

  function mentionList(root, place, etag, note) {
    root.appendChild(element("h3", null, "Its mentions in the text"));
    var list = element("ul", "nm-mentions");
    place.mentions.forEach(function (mention) {
      var start = edit.sentences[mention[0]] + mention[1];
      var end = edit.sentences[mention[0]] + mention[2];
      var text = sentenceOf(mention).slice(mention[1], mention[2]);
      var item = element("li");
      item.appendChild(element("q", null, text));
      item.appendChild(document.createTextNode(" (sentence " + (mention[0] + 1) + ") "));
      var last = place.mentions.length === 1;
      var unlink = button(last ? "Unlink (its only mention: the place leaves the map)" : "Unlink", function () {
        request("DELETE", base + "/mentions/" + start + "-" + end, { note: note.value }, etag).then(function (result) {
          saved(result, "“" + text + "” is no longer linked to “" + place.shown + "”.", last ? "" : place.id);
        });
      });
      unlink.setAttribute("aria-label", "Unlink “" + text + "” in sentence " + (mention[0] + 1));
      item.appendChild(unlink);
      list.appendChild(item);
    });
    root.appendChild(list);
  }

  // ------------------------------------------------------------------ a missed place

  /* The selected words, as offsets into the article's text, when they lie inside one sentence. */
  function selectedText() {
    var selection = window.getSelection();
    if (!selection || !selection.rangeCount || selection.isCollapsed) {
      return null;
    }
    var range = selection.getRangeAt(0);
    var from = range.startContainer.nodeType === 1 ? range.startContainer : range.startContainer.parentElement;
    var to = range.endContainer.nodeType === 1 ? range.endContainer : range.endContainer.parentElement;
    var sentence = from && from.closest(".sentence");
    if (!sentence || sentence !== (to && to.closest(".sentence"))) {
      return null;
    }
    var before = document.createRange();
    before.selectNodeContents(sentence);
    before.setEnd(range.startContainer, range.startOffset);
    var raw = range.toString();
    var text = raw.trim();
    if (!text) {
      return null;
    }
    var index = parseInt(sentence.id.slice("sentence-".length), 10);
    var start = edit.sentences[index] + before.toString().length + (raw.length - raw.replace(/^\s+/, "").length);
    return { start: start, end: start + text.length, text: text };
  }

  document.addEventListener("selectionchange", function () {
    var chosen = selectedText();
    if (chosen) {
      chosenText = chosen;
      addButton.disabled = false;
      addButton.textContent = "Add “" + (chosen.text.length > 40 ? chosen.text.slice(0, 40) + "…" : chosen.text) + "” as a place";
    }
  });

  addButton.addEventListener("click", function () {
    if (chosenText) {
      openAdder(chosenText);
    }
  });

  function openAdder(chosen) {
    var root = showPanel("Add “" + chosen.text + "” as a place");
    root.appendChild(element("p", "hint", "Characters " + chosen.start + "–" + chosen.end + " of the article."));
    var note = noteField(root);
    function post(place, what) {
      var body = { start: chosen.start, end: chosen.end, text: chosen.text, place: place, note: note.value };
      request("POST", base + "/mentions", body).then(function (result) {
        saved(result, what, "");
      });
    }
    root.appendChild(element("h3", null, "Which place is it?"));
    var list = element("ul", "nm-candidates");
    root.appendChild(list);
    function use(candidate) {
      post({ candidate: candidate.key }, "Added “" + chosen.text + "”: " + describe(candidate) + ".");
    }
    request("GET", "/api/gazetteer?q=" + encodeURIComponent(chosen.text)).then(function (result) {
      candidateList(list, result.ok ? result.body.results || [] : [], use);
    });
    searchForm(root, chosen.text, null, use);

    var ids = Object.keys(nm.places);
    if (ids.length) {
      root.appendChild(element("h3", null, "A place already on the map?"));
      var form = element("form", "nm-row");
      var label = element("label", "nm-field", "Place");
      var select = element("select");
      ids.forEach(function (id) {
        var option = element("option", null, nm.places[id].shown + " (" + nm.places[id].kind + ")");
        option.value = id;
        select.appendChild(option);
      });
      label.appendChild(select);
      form.appendChild(label);
      var link = element("button", null, "Link the words to it");
      link.type = "submit";
      form.appendChild(link);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        post(select.value, "Linked “" + chosen.text + "” to “" + nm.places[select.value].shown + "”.");
      });
      root.appendChild(form);
    }

    root.appendChild(element("h3", null, "Or put it on the map by hand"));
    var own = element("form", "nm-row");
    var name = field(own, "Name", chosen.text);
    var kind = field(own, "Kind", "place");
    var category = categoryField(own, "other mentioned place");
    var place = element("button", null, "Click the map to put it there");
    place.type = "submit";
    own.appendChild(place);
    own.addEventListener("submit", function (event) {
      event.preventDefault();
      startPicking(null, function (lat, lon) {
        post({ name: name.value, kind: kind.value, category: category.value, lat: lat, lon: lon },
          "Added “" + name.value + "” at " + lat.toFixed(5) + ", " + lon.toFixed(5) + ".");
      });
    });
    root.appendChild(own);
    root.appendChild(closeButton());
    root.focus();
  }

  // ------------------------------------------------------------------ undo, revert, popups

  document.getElementById("nm-undo").addEventListener("click", function () {
    request("POST", base + "/undo", {}).then(function (result) {
      saved(result, "Undone: your last change.", "");
    });
  });

  document.querySelectorAll("button[data-revert]").forEach(function (revert) {
    revert.addEventListener("click", function () {
      var seq = revert.getAttribute("data-revert");
      request("POST", base + "/corrections/" + encodeURIComponent(seq) + "/revert", {}).then(function (result) {
        saved(result, "Reverted change #" + seq + ".", "");
      });
    });
  });

  document.querySelectorAll("button[data-edit]").forEach(function (open) {
    open.addEventListener("click", function () { openEditor(open.getAttribute("data-edit")); });
  });

  nm.hooks.popup.push(function (place, root) {
    root.appendChild(button("Edit this place", function () { openEditor(place.id); }, "nm-edit-open"));
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && picking) {
      stopPicking();
      say("Cancelled.");
    }
  });

  var message = sessionStorage.getItem(MESSAGE_KEY);
  if (message) {
    sessionStorage.removeItem(MESSAGE_KEY);
    say(message);
  }
}());
