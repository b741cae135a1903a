// Live fleet page: a table and a map of the devices in the user's scope, updated over a websocket.
(function () {
  "use strict";
  const dataNode = document.getElementById("fleet-data");
  if (!dataNode) return;
  const devices = JSON.parse(dataNode.textContent);
  // State labels in the reader's language, from the page (messages carry only the state).
  const labelsNode = document.getElementById("device-states");
  const stateLabels = labelsNode ? JSON.parse(labelsNode.textContent) : {};
  const label = (state) => stateLabels[state] || state;
  const status = document.getElementById("live-status");
  const markers = {};
  // Leaflet reads a string tooltip as HTML; a device's name is data, so it goes in as text.
  function textNode(text) {
    const span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  function setStatus(text, cls) {
    if (!status) return;
    status.textContent = text;
    status.className = "live " + cls;
  }

  // The map works without tiles: markers on a plain background. Street tiles only on request.
  let map = null;
  const mapNode = document.getElementById("fleet-map");
  if (mapNode && window.L) {
    const located = devices.filter((d) => d.latitude !== null && d.longitude !== null);
    map = L.map(mapNode, { attributionControl: true });
    if (located.length) {
      map.fitBounds(located.map((d) => [d.latitude, d.longitude]), { padding: [20, 20], maxZoom: 14 });
    } else {
      map.setView([31.23, 121.47], 4);
    }
    located.forEach((d) => {
      markers[d.id] = L.circleMarker([d.latitude, d.longitude], { radius: 7, className: "marker state-" + d.state })
        .bindTooltip(textNode(d.name))
        .addTo(map);
    });
    const toggle = document.getElementById("street-map");
    let tiles = null;
    function applyTiles(on) {
      if (on && !tiles) {
        tiles = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
          maxZoom: 19,
          attribution: "&copy; OpenStreetMap contributors",
        }).addTo(map);
      } else if (!on && tiles) {
        map.removeLayer(tiles);
        tiles = null;
      }
    }
    if (toggle) {
      toggle.checked = localStorage.getItem("fleet.streetMap") === "1";
      applyTiles(toggle.checked);
      toggle.addEventListener("change", () => {
        localStorage.setItem("fleet.streetMap", toggle.checked ? "1" : "0");
        applyTiles(toggle.checked);
      });
    }
  }

  function update(device) {
    const row = document.querySelector('tr[data-device="' + device.id + '"]');
    if (row) {
      const state = row.querySelector(".state");
      state.textContent = label(device.state);
      state.className = "state state-" + device.state;
      row.dataset.state = device.state;
      const seen = row.querySelector(".seen");
      if (seen && device.last_seen_at) seen.textContent = new Date(device.last_seen_at).toLocaleString();
    }
    const single = document.getElementById("device-state");
    if (single) {
      single.textContent = label(device.state);
      single.className = "state-" + device.state;
    }
    const marker = markers[device.id];
    if (marker && marker._path) marker._path.setAttribute("class", "leaflet-interactive marker state-" + device.state);
  }

  // The user's grants changed while the page was open (the socket already follows them): fetch the
  // same page again and take its table, counts and devices, so devices gained appear and devices
  // lost disappear without a reload. The fetched page is the server's own escaped rendering.
  function rescope() {
    if (dataNode.dataset.socket) return; // a device's own page: its socket closes if it is lost
    const table = document.querySelector("table.data tbody");
    if (!table) return;
    fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
      .then((html) => {
        const fresh = new DOMParser().parseFromString(html, "text/html");
        const freshBody = fresh.querySelector("table.data tbody");
        if (freshBody) table.replaceWith(document.adoptNode(freshBody));
        const counts = document.querySelector(".counts");
        const freshCounts = fresh.querySelector(".counts");
        if (counts && freshCounts) counts.replaceWith(document.adoptNode(freshCounts));
        const freshData = fresh.getElementById("fleet-data");
        if (!freshData || !map) return;
        const now = JSON.parse(freshData.textContent);
        const ids = new Set(now.map((d) => String(d.id)));
        Object.keys(markers).forEach((id) => {
          if (!ids.has(id)) {
            map.removeLayer(markers[id]);
            delete markers[id];
          }
        });
        now.forEach((d) => {
          if (markers[d.id] || d.latitude === null || d.longitude === null) return;
          markers[d.id] = L.circleMarker([d.latitude, d.longitude], { radius: 7, className: "marker state-" + d.state })
            .bindTooltip(textNode(d.name))
            .addTo(map);
        });
      })
      .catch(() => setStatus(status ? status.dataset.offline : "", "off"));
  }

  let delay = 1000;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + (dataNode.dataset.socket || "/ws/fleet/"));
    socket.onopen = () => {
      delay = 1000;
      setStatus(status ? status.dataset.live : "", "on");
    };
    socket.onmessage = (event) => {
      liveMessages(event.data).forEach((message) => {
        if (message.type === "device") update(message.device);
        else if (message.type === "scope") rescope();
      });
    };
    socket.onclose = () => {
      setStatus(status ? status.dataset.offline : "", "off");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
