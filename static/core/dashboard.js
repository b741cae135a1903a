// The dashboard's live cards: a card with data-live="orders" or "fleet" is asked for again (rendered
// by the server, for this user, inside their grants) after its websocket says something changed.
// Messages that come together are answered with one request; charts inside are drawn again.
(function () {
  "use strict";
  const root = document.getElementById("dashboard");
  const status = document.getElementById("dashboard-live");
  if (!root) return;
  const SOCKETS = { orders: "/ws/orders/", fleet: "/ws/fleet/" };
  const WAIT_MS = 1500; // gather a burst of sales into one refresh
  const pending = new Set();
  let timer = null;
  const open = new Set();

  function showStatus() {
    if (!status) return;
    const live = open.size > 0;
    status.textContent = live ? status.dataset.live : status.dataset.offline;
    status.classList.toggle("on", live);
    status.classList.toggle("off", !live);
    document.body.dataset.dashboardLive = live ? "on" : "off";
  }

  function refresh() {
    timer = null;
    const keys = [];
    root.querySelectorAll("[data-card][data-live]").forEach(function (card) {
      if (pending.has(card.dataset.live)) keys.push(card.dataset.card);
    });
    pending.clear();
    if (!keys.length) return;
    fetch(root.dataset.refresh + "?keys=" + encodeURIComponent(keys.join(",")), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) { return response.ok ? response.json() : { cards: {} }; })
      .then(function (data) {
        Object.keys(data.cards || {}).forEach(function (key) {
          const old = root.querySelector('[data-card="' + CSS.escape(key) + '"]');
          if (!old) return;
          const holder = document.createElement("div");
          holder.innerHTML = data.cards[key];
          const card = holder.firstElementChild;
          old.replaceWith(card);
          if (window.consoleCharts) card.querySelectorAll("figure.chart[data-chart]").forEach(window.consoleCharts.render);
          card.dataset.refreshed = String(Date.now());
        });
      })
      .catch(function () { /* the next message tries again */ });
  }

  function changed(group) {
    pending.add(group);
    if (!timer) timer = setTimeout(refresh, WAIT_MS);
  }

  function connect(group, delay) {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + SOCKETS[group]);
    socket.onopen = function () { delay = 1000; open.add(group); showStatus(); };
    socket.onmessage = function (event) {
      liveMessages(event.data).forEach(function (message) {
        if (message.type === "order" || message.type === "money" || message.type === "device") changed(group);
      });
    };
    socket.onclose = function (event) {
      open.delete(group);
      showStatus();
      if (event.code === 4403) return; // not allowed: the figures stay as loaded
      setTimeout(function () { connect(group, Math.min(delay * 2, 30000)); }, delay);
    };
  }

  Object.keys(SOCKETS).forEach(function (group) {
    if (root.dataset["live" + group.charAt(0).toUpperCase() + group.slice(1)]) connect(group, 1000);
  });
})();
