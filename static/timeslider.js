/* newsmap library page: what the time slider does (library.js fetches this on the reader's first touch
   of the slider, which the server drew where the address's from/to put it). Two native range inputs on
   one track, in months from the library's first January, stepping by year or by month: a handle stops
   at the other; each move says its date (aria-valuetext and the labels), puts the range in the address
   (?from=&to=, so the view can be linked), moves the map (its data for the new range, a moment after
   the last move) and points "Show these articles" at the list of them. Both handles at the ends: every
   date, the undated articles too. */
(function () {
  "use strict";
  var MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December"];

  /* "2019" -> "2019", "2019-03" -> "March 2019", "2019-03-05" -> "5 March 2019", as the page says it. */
  function dateWords(value) {
    var parts = value.split("-");
    var month = parts[1] ? MONTHS[Number(parts[1]) - 1] + " " : "";
    return (parts[2] ? Number(parts[2]) + " " : "") + month + parts[0];
  }

  /* The range in words, as the page's headings say it. */
  function rangeWords(params) {
    var from = params.from ? dateWords(params.from) : "", to = params.to ? dateWords(params.to) : "";
    if (from && params.from === params.to) {
      return (params.from.length < 10 ? "in " : "on ") + from;
    }
    if (from && to) {
      return "from " + from + " to " + to;
    }
    return from ? "since " + from : to ? "until " + to : "";
  }

  window.newsmapTimeSlider = function (api, track) {
    var panel = api.panel, state = api.state;
    var from = panel.querySelector(".nm-time-from"), to = panel.querySelector(".nm-time-to");
    var first = Number(panel.getAttribute("data-first")), step = Number(from.step), last = Number(to.max);
    var timer = null;

    function date(value) {
      var year = first + Math.floor(value / 12), month = value % 12 + 1;
      return step === 12 ? String(year) : year + "-" + (month < 10 ? "0" : "") + month;
    }

    function show() {
      [[from, "from"], [to, "to"]].forEach(function (item) {
        var words = dateWords(state.params[item[1]] || date(Number(item[0].value)));
        item[0].setAttribute("aria-valuetext", words);
        document.getElementById("nm-time-" + item[1] + "-value").textContent = words;
      });
      from.classList.toggle("nm-time-top", Number(from.value) >= Number(from.max));  /* both at the end: "from" can still move */
      track();
      var query = api.search(state.params), link = panel.querySelector(".nm-time-show");
      link.href = "/" + (query ? "?" + query : "");
      link.hidden = query === api.search(api.data.params);
    }

    function moved(event) {
      var lo = Number(from.value), hi = Number(to.value);
      if (lo > hi) {  /* the handle moved stops at the other one */
        if (event && event.target === from) {
          from.value = lo = hi - step + 1;
        } else {
          to.value = hi = lo + step - 1;
        }
      }
      var whole = lo === 0 && hi === last;  /* every date: the undated articles too */
      state.params.from = whole ? "" : date(lo);
      state.params.to = whole ? "" : date(hi);
      state.words = rangeWords(state.params);
      var query = api.search(state.params);
      history.replaceState(null, "", location.pathname + (query ? "?" + query : "") + location.hash);
      show();
      window.clearTimeout(timer);
      timer = window.setTimeout(api.load, 150);
    }

    from.addEventListener("input", moved);
    to.addEventListener("input", moved);
    if (from.value !== from.defaultValue || to.value !== to.defaultValue) {
      moved(null);  /* moved before this script came */
    }
  };
}());
