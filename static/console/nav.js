// Phones: the console navigation and the account links fold behind the "Menu" button, so the
// page's content starts on the first screen. Loaded in <head>: the `js` class is set before the
// page is drawn (without JavaScript, the navigation simply stays open above the content).
document.documentElement.classList.add("js");
document.addEventListener("click", function (event) {
  const button = event.target.closest("[data-nav-toggle]");
  if (!button) return;
  const open = document.body.classList.toggle("nav-open");
  button.setAttribute("aria-expanded", open ? "true" : "false");
});

// Every table of figures scrolls inside a box of its own when it is wider than the screen, so
// the page never does, and a table that fits keeps the full width (on a phone, a table that
// scrolled by itself shrank to its content). Templates may wrap a table themselves.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("table.data").forEach(function (table) {
    if (table.parentElement.classList.contains("table-scroll")) return;
    const box = document.createElement("div");
    box.className = "table-scroll";
    table.parentNode.insertBefore(box, table);
    box.appendChild(table);
  });
});
