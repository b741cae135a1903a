// The offline till (ADR 20). While online it keeps, per store, what selling needs without the
// server (the shelf's products with prices and barcodes, the clerk's offline methods and limits,
// their open shift) in IndexedDB, and registers the service worker that keeps the page itself.
// Offline (the browser says so, or the server does not answer) it shows a banner, looks products
// up in what it kept, and takes cash or card: each sale is queued with its own id (a UUID) and
// the time it happened. Back online it sends the queue, oldest first; the server applies each sale
// once, so a sale sent twice (a lost answer, two tabs) is still one sale.
// No inline script (Content-Security-Policy); text goes into the page with textContent only.
(function () {
  const till = window.till;
  const form = document.getElementById("till-form");
  if (!till || !form) return;
  const labels = till.labels;
  const api = form.dataset.offlineApi;
  const banner = document.getElementById("offline-banner");
  const queuedText = document.getElementById("offline-queued");
  const syncedText = document.getElementById("offline-synced");
  const failedList = document.getElementById("offline-failed");
  const pay = document.getElementById("offline-pay");
  const methodSelect = document.getElementById("offline-method");
  const tendered = document.getElementById("offline-tendered");
  const tenderedRow = document.getElementById("offline-tendered-row");
  const reference = document.getElementById("offline-reference");
  const referenceRow = document.getElementById("offline-reference-row");
  const payMessage = document.getElementById("offline-message");
  const sell = document.getElementById("till-sell");
  const expectedCash = document.getElementById("expected-cash");
  const pageToken = form.querySelector("[name=csrfmiddlewaretoken]").value;
  // The cookie's token is current even when the page is an older kept copy.
  const csrf = () => (document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/) || [null, pageToken])[1];
  const PROBE_MS = 15000;

  let snapshot = null;
  let offline = false;
  let syncing = false;
  let probe = null;

  // --- IndexedDB, promised ---------------------------------------------------------------------
  const dbReady = new Promise((resolve, reject) => {
    if (!("indexedDB" in window)) {
      reject(new Error("no IndexedDB"));
      return;
    }
    const request = indexedDB.open("till", 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore("snapshots", { keyPath: "key" });
      db.createObjectStore("queue", { keyPath: "client_id" });
      db.createObjectStore("failed", { keyPath: "client_id" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });

  async function store(name, mode, work) {
    const db = await dbReady;
    return new Promise((resolve, reject) => {
      const transaction = db.transaction(name, mode);
      const result = work(transaction.objectStore(name));
      transaction.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  }
  const dbGet = (name, key) => store(name, "readonly", (s) => s.get(key));
  const dbAll = (name) => store(name, "readonly", (s) => s.getAll());
  const dbPut = (name, value) => store(name, "readwrite", (s) => s.put(value));
  const dbDelete = (name, key) => store(name, "readwrite", (s) => s.delete(key));

  // Kept per user and store: a shared tablet must not offer one clerk's shift to another.
  const who = (document.querySelector(".topbar .who") || {}).textContent || "";
  const snapshotKey = () => `${who.trim()}|${till.site.value}`;

  // --- What the till keeps ----------------------------------------------------------------------
  async function refreshSnapshot() {
    if (!till.site.value) return;
    try {
      const response = await fetch(`${api}snapshot/?site=${encodeURIComponent(till.site.value)}`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) throw new Error(String(response.status));
      snapshot = await response.json();
      await dbPut("snapshots", { key: snapshotKey(), ...snapshot });
      form.dataset.kept = String(snapshot.site); // the till can sell here offline now
    } catch (_error) {
      snapshot = (await dbGet("snapshots", snapshotKey()).catch(() => null)) || snapshot;
    }
    showMethods();
  }

  async function keptSnapshot() {
    if (!snapshot || String(snapshot.site) !== String(till.site.value)) {
      snapshot = (await dbGet("snapshots", snapshotKey()).catch(() => null)) || null;
    }
    return snapshot;
  }

  till.offlineLookup = (code) => {
    if (!snapshot || String(snapshot.site) !== String(till.site.value)) return null;
    const wanted = code.trim();
    const lower = wanted.toLowerCase();
    const exact = snapshot.products.find(
      (p) => p.barcode === wanted || p.barcodes.includes(wanted) || p.sku.toLowerCase() === lower,
    );
    const matches = snapshot.products.filter((p) => p.name.toLowerCase().includes(lower)).slice(0, 20);
    return { exact: exact || null, matches };
  };

  // --- State on the page ------------------------------------------------------------------------
  function showMethods() {
    const methods = (snapshot && snapshot.methods) || [];
    methodSelect.replaceChildren();
    for (const method of methods) {
      if (method === "cash" && !snapshot.shift) continue; // cash goes into a shift's drawer
      const option = document.createElement("option");
      option.value = method;
      option.textContent = labels[method] || method;
      methodSelect.append(option);
    }
    showMethodFields();
  }

  function showMethodFields() {
    tenderedRow.hidden = methodSelect.value !== "cash";
    referenceRow.hidden = methodSelect.value !== "card";
  }

  async function showQueue() {
    const queued = await dbAll("queue").catch(() => []);
    const failed = await dbAll("failed").catch(() => []);
    queuedText.textContent = queued.length ? till.format(labels.queued, { n: queued.length }) : "";
    queuedText.dataset.count = String(queued.length);
    failedList.replaceChildren();
    for (const sale of failed) {
      const li = document.createElement("li");
      li.className = "error";
      li.textContent = till.format(labels.failed, { message: sale.error });
      failedList.append(li);
    }
    banner.hidden = !offline && !queued.length && !failed.length && !syncedText.textContent;
    return queued;
  }

  function setOffline(flag) {
    offline = flag;
    till.offline = flag;
    document.body.dataset.till = flag ? "offline" : "online";
    document.getElementById("offline-state").hidden = !flag;
    pay.hidden = !flag;
    sell.hidden = flag;
    // Everything else on the page posts to the server: off while it cannot be reached.
    for (const button of document.querySelectorAll(".till form:not(#till-form) button[type=submit]")) {
      button.disabled = flag;
      button.title = flag ? labels.needs_server : "";
    }
    if (flag && !probe) probe = setInterval(tryServer, PROBE_MS);
    if (!flag && probe) {
      clearInterval(probe);
      probe = null;
    }
    showQueue();
  }

  // Whether the server answers at all: the service worker's script is small, public and never
  // answered from a cache.
  function serverAnswers() {
    return fetch(form.dataset.sw, { cache: "no-store", credentials: "same-origin" })
      .then((response) => response.status < 500)
      .catch(() => false);
  }

  // The network may be up and the server down: look again now and then.
  async function tryServer() {
    if (navigator.onLine && (await serverAnswers())) backOnline();
  }

  till.unreachable = () => setOffline(true);

  // --- Taking a payment offline -----------------------------------------------------------------
  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  // Money in cents, so 0.1 + 0.2 is 0.30 at the till as on the server.
  const cents = (text) => Math.round(Number(text) * 100);
  const amountText = (value) => (value / 100).toFixed(2);

  async function take() {
    payMessage.textContent = "";
    const kept = await keptSnapshot();
    if (!kept) {
      payMessage.textContent = labels.no_catalog;
      return;
    }
    if (!till.cart.size) {
      payMessage.textContent = labels.empty;
      return;
    }
    const method = methodSelect.value;
    if (!method) {
      payMessage.textContent = labels.no_method;
      return;
    }
    const lines = [];
    let total = 0;
    for (const [id, item] of till.cart) {
      lines.push({ product: id, quantity: item.quantity, unit_price: item.product.price });
      total += cents(item.product.price) * item.quantity;
    }
    const limits = kept.limits || {};
    if (limits.per_collection !== null && total > cents(limits.per_collection)) {
      payMessage.textContent = till.format(labels.over_limit, { amount: amountText(total), limit: limits.per_collection });
      return;
    }
    const queued = await dbAll("queue").catch(() => []);
    if (limits.per_day !== null) {
      const today = cents(limits.collected_today) + queued.reduce((sum, sale) => sum + cents(sale.amount), 0);
      if (today + total > cents(limits.per_day)) {
        payMessage.textContent = till.format(labels.over_daily, { amount: amountText(total), limit: limits.per_day });
        return;
      }
    }
    const sale = {
      client_id: uuid(),
      site: Number(till.site.value),
      shift: kept.shift ? kept.shift.id : null,
      happened_at: new Date().toISOString(),
      method,
      lines,
      amount: amountText(total),
    };
    let change = 0;
    if (method === "cash") {
      const given = tendered.value.trim() ? cents(tendered.value.replace(",", ".")) : total;
      if (!Number.isFinite(given) || given < total) {
        payMessage.textContent = labels.tendered_short;
        return;
      }
      sale.tendered = amountText(given);
      change = given - total;
    } else {
      if (!reference.value.trim()) {
        payMessage.textContent = labels.need_reference;
        return;
      }
      sale.reference = reference.value.trim();
    }
    await dbPut("queue", sale);
    // What this till sold comes off what it believes is on the shelf.
    for (const [id, item] of till.cart) {
      const product = kept.products.find((p) => p.id === id);
      if (product) product.on_shelf = Math.max(product.on_shelf - item.quantity, 0);
    }
    await dbPut("snapshots", { key: snapshotKey(), ...kept });
    till.cart.clear();
    till.render();
    tendered.value = "";
    reference.value = "";
    till.say(till.format(labels.kept, { amount: sale.amount, change: amountText(change) }));
    await showQueue();
  }

  // --- Sending the queue ------------------------------------------------------------------------
  async function sync() {
    if (syncing || offline) return;
    syncing = true;
    let sent = 0;
    let flagged = 0;
    try {
      const queued = (await dbAll("queue")).sort((a, b) => a.happened_at.localeCompare(b.happened_at));
      if (queued.length) syncedText.textContent = labels.sending;
      for (const sale of queued) {
        let response;
        try {
          response = await fetch(api, {
            method: "POST",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf() },
            body: JSON.stringify(sale),
          });
        } catch (_error) {
          setOffline(true);
          break;
        }
        const body = await response.json().catch(() => ({}));
        if (response.ok) {
          await dbDelete("queue", sale.client_id);
          sent += 1;
          if (body.status === "flagged") flagged += 1;
          if (expectedCash && body.expected_cash) expectedCash.textContent = body.expected_cash;
        } else if (
          response.status >= 400 &&
          response.status < 500 &&
          ![401, 429].includes(response.status) &&
          !String(body.detail || "").startsWith("CSRF")
        ) {
          // Refused for good (its shape or scope): kept aside for the manager, not retried.
          const error = body.detail || Object.values(body).flat().join(" ") || String(response.status);
          await dbPut("failed", { ...sale, error });
          await dbDelete("queue", sale.client_id);
        } else {
          break; // the server is struggling or the session ended: try again later
        }
      }
    } finally {
      syncing = false;
    }
    if (sent) syncedText.textContent = till.format(labels.synced, { n: sent, flagged });
    else if (syncedText.textContent === labels.sending) syncedText.textContent = "";
    await showQueue();
  }

  async function backOnline() {
    setOffline(false);
    await sync();
    await refreshSnapshot();
  }

  // --- Wiring -----------------------------------------------------------------------------------
  methodSelect.addEventListener("change", showMethodFields);
  document.getElementById("offline-take").addEventListener("click", () => {
    take().catch((error) => {
      payMessage.textContent = String(error);
    });
  });
  // Selling online posts the page: look first, so a server that went away since the last scan
  // does not take the cart with it.
  let looked = false;
  form.addEventListener("submit", (event) => {
    if (looked) return;
    event.preventDefault();
    if (offline) {
      till.say(labels.use_offline_pay);
      return;
    }
    serverAnswers().then((reachable) => {
        if (reachable) {
          looked = true;
          document.getElementById("till-scan").value = "";
          form.submit();
        } else {
          setOffline(true);
          till.say(labels.use_offline_pay);
        }
      });
  });
  till.site.addEventListener("change", () => (offline ? keptSnapshot().then(showMethods) : refreshSnapshot()));
  window.addEventListener("offline", () => setOffline(true));
  window.addEventListener("online", () => backOnline());

  if ("serviceWorker" in navigator && form.dataset.sw) {
    navigator.serviceWorker.register(form.dataset.sw).catch(() => {
      // Without it the page still sells offline once loaded; it just cannot be reopened offline.
    });
  }
  setOffline(!navigator.onLine);
  if (navigator.onLine) {
    sync().then(refreshSnapshot);
  } else {
    keptSnapshot().then(showMethods);
  }
})();
