// Console charts: Apache ECharts (vendored in static/vendor/echarts-*), themed once here.
// A chart is <figure class="chart" data-chart="ID"> next to {{ spec|json_script:"ID" }}, rendered by
// templates/core/_chart.html. The spec comes from core.charts (Python): never inline script.
//   {"type": "line"|"bar"|"pie"|"heatmap", "x": [...], "y": [...] (heatmap rows), "xName": "",
//    "series": [{"name": ..., "data": [...], "axis": 0|1, "axisName": "", "unit": ""}],
//    "money": bool, "unit": "", "stack": bool, "scale": bool}
// A series with "axis": 1 is drawn against a second value axis at the right; a series' "unit"
// follows its numbers (axis labels, tooltip, table), else the chart's.
// Every chart has the table of its numbers one click away; money shows two decimals in the
// page's language (<html lang>).
(function () {
  "use strict";
  const PALETTE = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#0ea5e9", "#84cc16", "#ec4899", "#64748b"];
  const lang = document.documentElement.lang || "en";
  const money = new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const plain = new Intl.NumberFormat(lang, { maximumFractionDigits: 2 });

  function formatter(spec, serie) {
    const unit = (serie && serie.unit) || spec.unit;
    return (value) => {
      if (value === null || value === undefined || value === "") return "–";
      const n = Number(value);
      if (!Number.isFinite(n)) return String(value);
      return (spec.money ? money : plain).format(n) + (unit ? " " + unit : "");
    };
  }

  function valueAxis(spec, index) {
    const first = spec.series.find((s) => (s.axis || 0) === index) || {};
    return {
      type: "value", name: first.axisName || "", nameTextStyle: { align: index ? "right" : "left" },
      scale: !!spec.scale, axisLabel: { formatter: formatter(spec, first) },
      splitLine: { show: index === 0 },
    };
  }

  // The legend wraps onto as many lines as the chart's width needs (up to three; beyond, it
  // scrolls), and the plot keeps clear of it: a scrolling legend on a narrow card hid its last
  // names ("Maintenance") behind its arrows. Widths are measured as ECharts draws them (12px).
  const LEGEND = { itemWidth: 18, itemHeight: 10, itemGap: 10, textGap: 5, lineHeight: 22, maxLines: 3 };
  let ruler = null;
  function legendLines(names, width) {
    if (!names.length || !width) return 1;
    ruler = ruler || document.createElement("canvas").getContext("2d");
    ruler.font = "12px " + getComputedStyle(document.body).fontFamily;
    let lines = 1;
    let used = 0;
    names.forEach((name) => {
      const item = LEGEND.itemWidth + LEGEND.textGap + ruler.measureText(String(name)).width;
      if (used && used + LEGEND.itemGap + item > width - 16) {
        lines += 1;
        used = item;
      } else {
        used += (used ? LEGEND.itemGap : 0) + item;
      }
    });
    return lines;
  }

  function option(spec, size) {
    const fmt = formatter(spec);
    const width = (size && size.width) || 0;
    const height = (size && size.height) || 0;
    const names = spec.type === "pie" ? spec.x : spec.series.map((s) => s.name);
    const lines = legendLines(names, width);
    const wraps = lines <= LEGEND.maxLines;
    const legendHeight = (wraps ? lines : 1) * LEGEND.lineHeight;
    const base = {
      color: PALETTE,
      // The page's own font, named: ECharts measures text on a canvas, where "inherit" means a
      // default 10px font, so long legend names were laid out too short and ran into each other.
      textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
      animation: false,
      tooltip: { trigger: spec.type === "pie" ? "item" : "axis", valueFormatter: fmt, confine: true },
      legend: {
        type: wraps ? "plain" : "scroll", bottom: 0, left: "center",
        itemWidth: LEGEND.itemWidth, itemHeight: LEGEND.itemHeight, itemGap: LEGEND.itemGap,
      },
      grid: { left: 8, right: 16, top: 24, bottom: 14 + legendHeight, containLabel: true },
    };
    if (spec.type === "pie") {
      const s = spec.series[0] || { data: [] };
      // The ring sits in the space above the legend, small enough for the labels around it.
      const free = height ? Math.max(height - legendHeight - 8, 80) : 0;
      const outer = free ? Math.round(Math.min(width || free, free) * 0.34) : "60%";
      const inner = free ? Math.round(outer * 0.57) : "34%";
      const center = ["50%", free ? Math.round(free / 2 + 4) : "44%"];
      return Object.assign(base, {
        series: [{
          type: "pie", name: s.name, radius: [inner, outer], center: center,
          data: spec.x.map((label, i) => ({
            name: label, value: s.data[i],
            label: { show: Number(s.data[i]) > 0 }, // "0%" slices have no place on the ring: the legend names them
            labelLine: { show: Number(s.data[i]) > 0 },
          })),
          label: { formatter: "{d}%" }, // the names are in the legend: a narrow card has no room for both
        }],
      });
    }
    if (spec.type === "heatmap") {
      const values = [];
      let max = 0;
      (spec.series[0] || { data: [] }).data.forEach((row, yi) => row.forEach((v, xi) => {
        values.push([xi, yi, v]);
        max = Math.max(max, Number(v) || 0);
      }));
      return Object.assign(base, {
        tooltip: { position: "top", valueFormatter: fmt, confine: true },
        legend: { show: false }, // one series, named by the report's figure; it sat on the colour scale
        grid: { left: 8, right: 16, top: 8, bottom: 64, containLabel: true },
        xAxis: { type: "category", data: spec.x, splitArea: { show: true } },
        yAxis: { type: "category", data: spec.y, splitArea: { show: true } },
        visualMap: { min: 0, max: max || 1, calculable: true, orient: "horizontal", left: "center", bottom: 0,
                     inRange: { color: ["#eff6ff", "#1d4ed8"] }, formatter: fmt },
        series: [{ type: "heatmap", name: spec.series[0] && spec.series[0].name, data: values }],
      });
    }
    const axes = spec.series.some((s) => s.axis === 1);
    const named = spec.series.some((s) => s.axisName);
    if (named) base.grid.top = 40;
    return Object.assign(base, {
      xAxis: { type: "category", data: spec.x, name: spec.xName || "", nameLocation: "middle", nameGap: 28,
               axisLabel: { hideOverlap: true } },
      yAxis: axes ? [valueAxis(spec, 0), valueAxis(spec, 1)] : valueAxis(spec, 0),
      series: spec.series.map((s) => ({
        type: spec.type === "bar" ? "bar" : "line", name: s.name, data: s.data, yAxisIndex: s.axis || 0,
        stack: spec.stack ? "total" : undefined, smooth: false, showSymbol: spec.x.length < 40,
        connectNulls: false, tooltip: { valueFormatter: formatter(spec, s) },
      })),
    });
  }

  function table(spec, fmt) {
    const t = document.createElement("table");
    t.className = "chart-table";
    const head = t.createTHead().insertRow();
    const corner = document.createElement("th");
    head.appendChild(corner);
    if (spec.type === "heatmap") {
      spec.x.forEach((label) => { const th = document.createElement("th"); th.textContent = label; head.appendChild(th); });
      const body = t.createTBody();
      (spec.series[0] || { data: [] }).data.forEach((row, yi) => {
        const tr = body.insertRow();
        const th = document.createElement("th"); th.textContent = spec.y[yi]; tr.appendChild(th);
        row.forEach((v) => { const td = tr.insertCell(); td.className = "num"; td.textContent = fmt(v); });
      });
      return t;
    }
    spec.series.forEach((s) => { const th = document.createElement("th"); th.textContent = s.name; head.appendChild(th); });
    const body = t.createTBody();
    const formats = spec.series.map((s) => formatter(spec, s));
    spec.x.forEach((label, i) => {
      const tr = body.insertRow();
      const th = document.createElement("th"); th.textContent = label; tr.appendChild(th);
      spec.series.forEach((s, si) => { const td = tr.insertCell(); td.className = "num"; td.textContent = formats[si](s.data[i]); });
    });
    return t;
  }

  function sizeOf(canvas) {
    return { width: canvas.clientWidth, height: canvas.clientHeight };
  }

  // A new width may need another number of legend lines: the option is laid out again.
  function redraw(figure) {
    if (!figure._chart || !figure._spec) return;
    const canvas = figure.querySelector(".chart-canvas");
    figure._chart.resize();
    figure._chart.setOption(option(figure._spec, sizeOf(canvas)), true);
  }

  function render(figure) {
    const source = document.getElementById(figure.dataset.chart);
    if (!source || !window.echarts) return;
    const spec = JSON.parse(source.textContent);
    const canvas = figure.querySelector(".chart-canvas");
    const holder = figure.querySelector(".chart-data");
    const toggle = figure.querySelector(".chart-toggle");
    if (figure._chart) figure._chart.dispose();
    figure._chart = window.echarts.init(canvas, null, { renderer: "svg" });
    figure._spec = spec;
    figure._chart.setOption(option(spec, sizeOf(canvas)), true);
    holder.replaceChildren(table(spec, formatter(spec)));
    figure.dataset.rendered = "1";
    if (toggle && !toggle._bound) {
      toggle._bound = true;
      toggle.addEventListener("click", () => {
        const showTable = holder.hidden;
        holder.hidden = !showTable;
        canvas.hidden = showTable;
        toggle.textContent = showTable ? toggle.dataset.chartLabel : toggle.dataset.tableLabel;
        if (!showTable) redraw(figure);
      });
    }
  }

  // Pages that receive live figures replace the JSON and call window.consoleCharts.render(figure).
  window.consoleCharts = { render: render, option: option };
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("figure.chart[data-chart]").forEach(render);
  });
  window.addEventListener("resize", () => {
    document.querySelectorAll("figure.chart[data-rendered]").forEach(redraw);
  });
})();
