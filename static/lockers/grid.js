// The live compartment grid of one locker bank (over the bank's device websocket group).
(function () {
  "use strict";
  const grid = document.querySelector(".compartment-grid");
  if (!grid) return;
  const status = document.getElementById("live-status");
  // State labels in the reader's language, from the page (messages carry only the state).
  const labelsNode = document.getElementById("compartment-states");
  const labels = labelsNode ? JSON.parse(labelsNode.textContent) : {};
  let delay = 1000;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/ws/devices/" + grid.dataset.bank + "/");
    socket.onopen = function () { delay = 1000; status.className = "live on"; status.textContent = "●"; };
    function apply(message) {
      if (message.type !== "compartment") return;
      const c = message.compartment;
      const cell = grid.querySelector('[data-door="' + c.door + '"]');
      if (!cell) return;
      cell.dataset.state = c.state;
      cell.className = cell.className.replace(/cstate-\S+/, "cstate-" + c.state).replace(" door-open", "") +
        (c.door_open ? " door-open" : "");
      cell.querySelector(".cstate").textContent = labels[c.state] || c.state;
    }
    socket.onmessage = function (event) {
      liveMessages(event.data).forEach(apply);
    };
    socket.onclose = function (event) {
      status.className = "live off";
      if (event.code === 4403) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
