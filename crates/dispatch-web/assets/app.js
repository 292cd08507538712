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

// Typing "/" in the room's message box lists the chat commands that match what is typed (from
// the page's #commands list); a click or Enter on one fills it in. Without JavaScript the page
// has the same list under "Chat commands".
(function () {
  "use strict";
  var source = document.getElementById("commands");
  if (!source) return;
  var commands = Array.prototype.map.call(source.querySelectorAll("option"), function (o) {
    return { value: o.value, summary: o.textContent };
  });
  function hints(input) {
    var box = document.getElementById("command-hints");
    if (!box) {
      box = document.createElement("ul");
      box.id = "command-hints";
      box.className = "command-hints";
      box.setAttribute("role", "listbox");
      box.setAttribute("aria-label", "Chat commands");
    }
    var row = input.closest(".row") || input;
    if (box.previousElementSibling !== row) row.insertAdjacentElement("afterend", box);
    return box;
  }
  function update(input) {
    var text = input.value;
    var box = hints(input);
    box.innerHTML = "";
    if (text.charAt(0) !== "/" || text.indexOf(" ") !== -1) {
      box.hidden = true;
      return;
    }
    var typed = text.toLowerCase();
    commands.filter(function (c) { return c.value.indexOf(typed) === 0; }).forEach(function (c) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      li.tabIndex = -1;
      li.dataset.value = c.value;
      var code = document.createElement("code");
      code.textContent = c.value.trim();
      li.appendChild(code);
      li.appendChild(document.createTextNode(" " + c.summary));
      box.appendChild(li);
    });
    box.hidden = box.children.length === 0;
  }
  function choose(input, value) {
    input.value = value;
    input.focus();
    update(input);
  }
  document.addEventListener("input", function (ev) {
    if (ev.target && ev.target.id === "room-text") update(ev.target);
  });
  document.addEventListener("keydown", function (ev) {
    if (!ev.target || ev.target.id !== "room-text") return;
    var box = document.getElementById("command-hints");
    if (!box || box.hidden) return;
    if (ev.key === "Tab" && box.firstElementChild) {
      ev.preventDefault();
      choose(ev.target, box.firstElementChild.dataset.value);
    } else if (ev.key === "Escape") {
      box.hidden = true;
    }
  });
  document.addEventListener("click", function (ev) {
    var li = ev.target && ev.target.closest && ev.target.closest("#command-hints li");
    if (!li) return;
    var input = document.getElementById("room-text");
    if (input) choose(input, li.dataset.value);
  });
})();

// After a form of a page comes back to the same page (`?done=…`), keep the place the person
// was at rather than the section's heading, and take `done` out of the address so a reload
// does not say it again. Links with data-copy copy their text; forms with data-confirm ask first.
(function () {
  "use strict";
  var key = "dispatch-scroll";
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var ask = form.getAttribute && form.getAttribute("data-confirm");
    if (ask && !window.confirm(ask)) { ev.preventDefault(); return; }
    if ((form.method || "").toLowerCase() === "post") {
      try { sessionStorage.setItem(key, JSON.stringify({ path: location.pathname, y: window.scrollY })); } catch (e) { /* private mode */ }
    }
  }, true);
  var params = new URLSearchParams(location.search);
  if (params.has("done")) {
    try {
      var saved = JSON.parse(sessionStorage.getItem(key) || "null");
      if (saved && saved.path === location.pathname) {
        window.addEventListener("load", function () { window.scrollTo(0, saved.y); });
      }
      sessionStorage.removeItem(key);
    } catch (e) { /* nothing saved */ }
    params.delete("done");
    var q = params.toString();
    history.replaceState(null, "", location.pathname + (q ? "?" + q : "") + location.hash);
  }
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("[data-copy]");
    if (!b || !navigator.clipboard) return;
    ev.preventDefault();
    var text = b.getAttribute("data-copy");
    if (text.charAt(0) === "/") text = location.origin + text;
    navigator.clipboard.writeText(text).then(function () {
      var was = b.textContent; b.textContent = "Copied"; setTimeout(function () { b.textContent = was; }, 1500);
    });
  });
})();
