// Live results for the search form. Without this file the form is a plain GET form and works the same.
//
// As the question or an option changes (debounced), fetch the very URL the form would load, take the
// server-rendered #results from it and swap them in, and put that URL in the address bar, so the
// page stays shareable. A newer request aborts an older one, and an answer that is no longer the
// latest is dropped, so a slow answer never overwrites a newer one. The markup comes from the
// server's templates, where every piece of corpus text and query is already escaped; nothing here
// turns text into HTML.
(function () {
  "use strict";
  var DELAY_MS = 250;
  var form = document.getElementById("search");
  var results = document.getElementById("results");
  if (!form || !results || !window.fetch || !window.AbortController || !window.DOMParser) {
    return;
  }
  var box = form.elements.q;
  var timer = 0;
  var latest = null;  // the AbortController of the newest request

  function formUrl() {
    var url = new URL(form.action);
    url.search = new URLSearchParams(new FormData(form)).toString();
    return url;
  }

  function finish(controller) {
    if (latest === controller) {
      latest = null;
      results.removeAttribute("aria-busy");
    }
  }

  function showFailure(controller) {
    if (latest !== controller) {
      return;
    }
    var message = document.createElement("p");
    message.className = "error";
    message.setAttribute("role", "alert");
    message.textContent = "The server could not be reached. Press Enter to try again.";
    results.replaceChildren(message);
  }

  function swapIn(controller, url, html) {
    if (latest !== controller) {
      return;  // a newer request was sent meanwhile
    }
    var page = new DOMParser().parseFromString(html, "text/html");
    var fresh = page.getElementById("results");
    if (!fresh) {
      throw new Error("the answer has no results");
    }
    results.replaceChildren.apply(results, Array.prototype.slice.call(fresh.childNodes));
    document.title = page.title;
    history.replaceState(null, "", url);
  }

  function update() {
    clearTimeout(timer);
    if (latest) {
      latest.abort();
      latest = null;
    }
    if (!box.value.trim()) {
      results.replaceChildren();
      results.removeAttribute("aria-busy");
      document.title = "docsearch";
      history.replaceState(null, "", form.action);
      return;
    }
    var url = formUrl();
    var controller = new AbortController();
    latest = controller;
    results.setAttribute("aria-busy", "true");
    // Error pages (400, 503) carry their message in #results too, so every answer is swapped in.
    fetch(url, { signal: controller.signal, headers: { Accept: "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (html) { swapIn(controller, url, html); })
      .catch(function (error) {
        if (error.name !== "AbortError") {
          showFailure(controller);
        }
      })
      .then(function () { finish(controller); });
  }

  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(update, DELAY_MS);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    update();
  });
  // Focus lands in the box on load (autofocus); typing should go on after the question, not before it.
  if (document.activeElement === box) {
    box.setSelectionRange(box.value.length, box.value.length);
  }
  document.documentElement.setAttribute("data-live", "on");
})();
