// Tables marked data-refresh (active leases, availability) fetch their rows again in place.
(function () {
  "use strict";
  const table = document.querySelector("table[data-refresh]");
  if (!table) return;
  const badge = document.querySelector("[data-updated-badge]");
  async function refresh() {
    try {
      const response = await fetch(location.pathname + "?partial=1", { headers: { "X-Requested-With": "fetch" } });
      if (!response.ok) return;
      const holder = document.createElement("table");
      holder.innerHTML = await response.text();
      const rows = holder.querySelector("tbody");
      if (!rows) return;
      table.replaceChild(rows, table.querySelector("tbody"));
      if (badge) badge.textContent = badge.textContent.replace(/[0-9:]+$/, rows.dataset.updated);
      document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
    } catch (error) { /* offline for a moment: try again next time */ }
  }
  setInterval(refresh, Number(table.dataset.refresh) || 15000);
})();
