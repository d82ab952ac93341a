/* The New map form: while the server geoparses, show that it works and keep the button from a second submit. */
(function () {
  "use strict";
  var form = document.getElementById("new-map");
  if (!form) {
    return;
  }
  form.addEventListener("submit", function () {
    form.classList.add("is-working");
    form.setAttribute("aria-busy", "true");
    var button = form.querySelector("button[type=submit]");
    if (button) {
      button.disabled = true;
    }
  });
}());
