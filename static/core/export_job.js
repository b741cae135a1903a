// The export job page: polls the job's small status endpoint until the file is written, then
// shows the download link (core/templates/core/export_job.html).
(function () {
  "use strict";
  const root = document.getElementById("export-job");
  if (!root) return;
  const url = root.dataset.statusUrl;
  const bar = document.getElementById("export-progress");
  let delay = 1000;
  function show(state) {
    bar.value = state.percent;
    bar.textContent = state.percent + "%";
    root.querySelector("[data-export-status]").textContent = state.status_label;
    root.querySelector("[data-export-rows]").textContent = state.rows_done;
    root.querySelector("[data-export-total]").textContent = state.rows_total === null ? "…" : state.rows_total;
    if (state.error) {
      document.getElementById("export-error").hidden = false;
      root.querySelector("[data-export-error]").textContent = state.error;
    }
    if (state.download_url) {
      document.getElementById("export-download").href = state.download_url;
      document.getElementById("export-done").hidden = false;
    }
    return state.status === "done" || state.status === "failed";
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (state && show(state)) return;
        delay = Math.min(delay * 1.5, 5000);
        setTimeout(poll, delay);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  poll();
})();
