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
  Object.keys(byVehicle).forEach((vehicle, index) => {
    const stops = byVehicle[vehicle].sort((a, b) => a.stop - b.stop);
    const colour = colours[index % colours.length];
    const line = stops.map((s) => [s.lat, s.lon]);
    if (data.depot) {
      line.unshift([data.depot.lat, data.depot.lon]);
      line.push([data.depot.lat, data.depot.lon]);
    }
    L.polyline(line, { color: colour, weight: 3, opacity: 0.7 }).addTo(map);
    stops.forEach((s) => {
      L.circleMarker([s.lat, s.lon], {
        radius: 9,
        color: "#fff",
        weight: 2,
        fillColor: s.done ? "#98a2b3" : colour,
        fillOpacity: 0.95,
        className: "route-marker",
      })
        .bindTooltip(textNode(s.stop + ". " + s.name), { permanent: true, direction: "right" })
        .addTo(map);
    });
  });
  if (data.depot) {
    L.circleMarker([data.depot.lat, data.depot.lon], { radius: 11, color: "#101828", weight: 3, fillColor: "#fff", fillOpacity: 1 })
      .bindTooltip(textNode(data.depot.name))
      .addTo(map);
  }
})();
