// Live parts of a page. An element with data-events="URL" opens a server-sent event stream;
// each event replaces the content of the element whose data-live attribute is the event's name.
// Forms sit outside the live parts, so nothing a person is typing is lost.
(function () {
  "use strict";
  var root = document.querySelector("[data-events]");
  if (!root || !window.EventSource) return;
  var names = [];
  document.querySelectorAll("[data-live]").forEach(function (el) {
    names.push(el.getAttribute("data-live"));
  });
  var source = new EventSource(root.getAttribute("data-events"));
  names.forEach(function (name) {
    source.addEventListener(name, function (ev) {
      var el = document.querySelector('[data-live="' + name + '"]');
      if (!el) return;
      var list = el.querySelector(".messages");
      var atEnd = !list || list.scrollTop + list.clientHeight >= list.scrollHeight - 8;
      el.innerHTML = ev.data;
      if (window.htmx) window.htmx.process(el);
      list = el.querySelector(".messages");
      if (list && atEnd) list.scrollTop = list.scrollHeight;
      document.body.setAttribute("data-live-" + name, String(Date.now()));
    });
  });
  document.querySelectorAll(".messages").forEach(function (l) { l.scrollTop = l.scrollHeight; });
  // After htmx replaces the room, keep its newest messages in view.
  document.body.addEventListener("htmx:afterSwap", function () {
    document.querySelectorAll(".messages").forEach(function (l) { l.scrollTop = l.scrollHeight; });
  });
})();
