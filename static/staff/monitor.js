// Live collections and refunds (over /ws/orders/, scoped on the server): new rows on top.
(function () {
  "use strict";
  const labels = JSON.parse((document.getElementById("feed-labels") || {}).textContent || "{}");
  const body = document.querySelector("#money-feed tbody");
  const badge = document.getElementById("feed-live");
  let delay = 1000;
  function cell(text) { const td = document.createElement("td"); td.textContent = text; return td; }
  function add(m) {
    const row = document.createElement("tr");
    row.className = "money-" + m.kind + " fresh";
    row.dataset.live = "1";
    const order = document.createElement("td");
    const link = document.createElement("a");
    link.href = "/orders/" + m.order_id + "/";
    link.textContent = m.number;
    order.appendChild(link);
    const kind = (labels[m.kind] || m.kind) + (m.offline ? " (" + (labels.offline || "offline") + ")" : "");
    [cell(new Date().toLocaleString()), cell(kind), order, cell(m.site || ""), cell((labels.methods || {})[m.provider] || m.provider), cell(m.amount), cell(m.actor)]
      .forEach(function (td) { row.appendChild(td); });
    body.insertBefore(row, body.firstChild);
    while (body.rows.length > 200) body.deleteRow(body.rows.length - 1);
  }
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/ws/orders/");
    socket.onopen = function () { delay = 1000; badge.textContent = labels.live || "live"; document.body.dataset.feedLive = "on"; };
    socket.onmessage = function (event) {
      liveMessages(event.data).forEach(function (message) {
        if (message.type === "money") add(message);
      });
    };
    socket.onclose = function (event) {
      badge.textContent = labels.off || "offline";
      document.body.dataset.feedLive = "off";
      if (event.code === 4403) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
