// Active leases: the rows (running cost, minutes, overdue) are fetched again every 15 seconds.
(function () {
  "use strict";
  const table = document.getElementById("active-leases");
  const badge = document.getElementById("leases-updated");
  async function refresh() {
    try {
      const response = await fetch(location.pathname + "?partial=1", { headers: { "X-Requested-With": "fetch" } });
      if (!response.ok) return;
      const holder = document.createElement("table");
      holder.innerHTML = await response.text();
      const rows = holder.querySelector("tbody");
      if (rows) {
        table.replaceChild(rows, document.getElementById("active-rows"));
        badge.textContent = badge.textContent.replace(/[0-9:]+$/, rows.dataset.updated);
        document.body.dataset.leasesRefreshed = String(Number(document.body.dataset.leasesRefreshed || 0) + 1);
      }
    } catch (error) { /* offline for a moment: try again next time */ }
  }
  setInterval(refresh, Number(table.dataset.interval || 15000));
})();
