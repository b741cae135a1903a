// Restock route page: the depot and the stops in order on a Leaflet map (no tiles needed), one
// line per vehicle from the depot through its stops and back.
(function () {
  "use strict";
  const dataNode = document.getElementById("route-data");
  const mapNode = document.getElementById("route-map");
  if (!dataNode || !mapNode || !window.L) return;
  const data = JSON.parse(dataNode.textContent);
  const map = L.map(mapNode, { attributionControl: false });
  const points = data.stops.map((s) => [s.lat, s.lon]);
  if (data.depot) points.push([data.depot.lat, data.depot.lon]);
  if (points.length) {
    map.fitBounds(points, { padding: [20, 20], maxZoom: 15 });
  } else {
    map.setView([31.23, 121.47], 10);
  }
  function textNode(text) {
    const span = document.createElement("span");
    span.textContent = text;
    return span;
  }
  const colours = ["#1570ef", "#c11574", "#039855", "#dc6803", "#6938ef", "#0e9384"];
  const byVehicle = {};
  data.stops.forEach((s) => {
    (byVehicle[s.vehicle] = byVehicle[s.vehicle] || []).push(s);
  });
  // The machines of one venue stand a few metres apart: one marker per venue and vehicle, labelled
  // with its stop numbers. A narrow map (a phone) shows only the numbers, a wide one the names too; a
  // tap or a click on a marker lists the stops in full.
  const wide = mapNode.clientWidth >= 640;
  function placeNode(stops, withNames) {
    const node = document.createElement("span");
    const numbers = stops.map((s) => s.stop).join(", ");
    if (!withNames) node.textContent = numbers;
    else if (stops.length === 1) node.textContent = numbers + ". " + stops[0].name;
    else node.textContent = numbers + ". " + (stops[0].site || stops.map((s) => s.name).join(" · "));
    return node;
  }
  function listNode(stops) {
    const list = document.createElement("ol");
    list.className = "route-place";
    stops.forEach((s) => {
      const item = document.createElement("li");
      item.value = s.stop;
      item.textContent = s.name;
      list.appendChild(item);
    });
    return list;
  }
  Object.keys(byVehicle).forEach((vehicle, index) => {
    const stops = byVehicle[vehicle].sort((a, b) => a.stop - b.stop);
    const colour = colours[index % colours.length];
    const line = stops.map((s) => [s.lat, s.lon]);
    if (data.depot) {
      line.unshift([data.depot.lat, data.depot.lon]);
      line.push([data.depot.lat, data.depot.lon]);
    }
    L.polyline(line, { color: colour, weight: 3, opacity: 0.7 }).addTo(map);
    const places = new Map();
    stops.forEach((s) => {
      const key = s.place != null ? "site " + s.place : Number(s.lat).toFixed(5) + "," + Number(s.lon).toFixed(5);
      if (!places.has(key)) places.set(key, []);
      places.get(key).push(s);
    });
    places.forEach((here) => {
      const done = here.every((s) => s.done);
      L.circleMarker([here[0].lat, here[0].lon], {
        radius: 9,
        color: "#fff",
        weight: 2,
        fillColor: done ? "#98a2b3" : colour,
        fillOpacity: 0.95,
        className: "route-marker",
      })
        .bindTooltip(placeNode(here, wide), { permanent: true, direction: "right", className: "route-label" })
        .bindPopup(listNode(here))
        .addTo(map);
    });
  });
  if (data.depot) {
    L.circleMarker([data.depot.lat, data.depot.lon], { radius: 11, color: "#101828", weight: 3, fillColor: "#fff", fillOpacity: 1 })
      .bindTooltip(textNode(data.depot.name))
      .addTo(map);
  }
})();
