// A small dependency-free SVG line chart of a device's telemetry (temperature and signal).
(function () {
  "use strict";
  const node = document.getElementById("telemetry-data");
  const target = document.getElementById("telemetry-chart");
  if (!node || !target) return;
  const points = JSON.parse(node.textContent);
  const series = [
    { key: "temperature", label: target.dataset.temperature, cls: "series-a" },
    { key: "signal_dbm", label: target.dataset.signal, cls: "series-b" },
  ];
  const width = 640, height = 180, pad = 32;
  const svgNS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNS, "svg");
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  svg.setAttribute("role", "img");
  if (points.length < 2) {
    target.textContent = target.dataset.empty;
    return;
  }
  const times = points.map((p) => Date.parse(p.at));
  const t0 = Math.min(...times), t1 = Math.max(...times) || t0 + 1;
  series.forEach((s, index) => {
    const values = points.map((p) => (p[s.key] === null ? null : Number(p[s.key])));
    const present = values.filter((v) => v !== null);
    if (!present.length) return;
    const lo = Math.min(...present), hi = Math.max(...present);
    const span = hi - lo || 1;
    let d = "";
    values.forEach((v, i) => {
      if (v === null) return;
      const x = pad + ((times[i] - t0) / (t1 - t0 || 1)) * (width - 2 * pad);
      const y = height - pad - ((v - lo) / span) * (height - 2 * pad);
      d += (d ? " L" : "M") + x.toFixed(1) + " " + y.toFixed(1);
    });
    const path = document.createElementNS(svgNS, "path");
    path.setAttribute("d", d);
    path.setAttribute("class", "line " + s.cls);
    svg.appendChild(path);
    const legend = document.createElementNS(svgNS, "text");
    legend.setAttribute("x", pad + index * 200);
    legend.setAttribute("y", 14);
    legend.setAttribute("class", "legend " + s.cls);
    legend.textContent = s.label + " " + lo + "–" + hi;
    svg.appendChild(legend);
  });
  target.appendChild(svg);
})();
