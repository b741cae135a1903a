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
