// Live order status on the order list and order pages (over /ws/orders/, scoped on the server).
(function () {
  "use strict";
  const labels = JSON.parse((document.getElementById("order-status-labels") || {}).textContent || "{}");
  const banner = document.getElementById("orders-new");
  let delay = 1000;
  function apply(message) {
    const label = labels[message.status] || message.status;
    document.querySelectorAll('[data-order="' + message.id + '"]').forEach(function (node) {
      node.textContent = label;
      node.className = "status status-" + message.status;
      node.dataset.status = message.status;
    });
    if (message.action === "created" && banner && !document.querySelector('tr[data-pk="' + message.id + '"]')) {
      banner.hidden = false;
    }
  }
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/ws/orders/");
    socket.onopen = function () { delay = 1000; document.body.dataset.ordersLive = "on"; };
    socket.onmessage = function (event) {
      liveMessages(event.data).forEach(function (message) {
        if (message.type === "order") apply(message);
      });
    };
    socket.onclose = function (event) {
      document.body.dataset.ordersLive = "off";
      if (event.code === 4403) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
