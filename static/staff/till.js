// The till's cart: a barcode scanner in keyboard mode types the code and Enter; each scan adds
// one (scan twice, two of it). Typing a name or SKU and Enter searches. The cart is posted as
// repeated product/quantity fields; the server prices, checks the shelf and applies discounts.
// No inline script (Content-Security-Policy); text goes into the page with textContent only.
// Without the server, static/staff/offline-till.js takes over the lookups and the payment.
(function () {
  const form = document.getElementById("till-form");
  if (!form) return;
  const labels = JSON.parse(document.getElementById("till-labels").textContent);
  const api = form.dataset.api;
  const scan = document.getElementById("till-scan");
  const results = document.getElementById("till-results");
  const message = document.getElementById("till-message");
  const tbody = document.getElementById("till-lines");
  const totalCell = document.getElementById("till-total");
  const site = form.querySelector("[name=site]");
  const cart = new Map(); // product id -> {product, quantity}
  // What the offline till reads and sets (static/staff/offline-till.js, loaded after this file).
  const shared = {
    cart,
    labels,
    site,
    format,
    say,
    render: () => render(),
    offline: false,
    offlineLookup: null,
    unreachable: null,
  };
  window.till = shared;

  function say(text) {
    message.textContent = text || "";
  }

  function format(template, values) {
    return template.replace(/%\((\w+)\)[sd]/g, (_m, key) => String(values[key]));
  }

  function render() {
    tbody.replaceChildren();
    let total = 0;
    for (const [id, item] of cart) {
      const row = document.createElement("tr");
      const name = document.createElement("td");
      name.textContent = item.product.name;
      const qty = document.createElement("td");
      const minus = document.createElement("button");
      minus.type = "button";
      minus.textContent = "−";
      minus.className = "qty";
      minus.addEventListener("click", () => change(id, -1));
      const input = document.createElement("input");
      input.type = "number";
      input.name = "quantity";
      input.min = "1";
      input.max = String(Math.max(item.product.on_shelf, 1));
      input.inputMode = "numeric";
      input.value = String(item.quantity);
      input.addEventListener("change", () => set(id, parseInt(input.value, 10) || 1));
      const plus = document.createElement("button");
      plus.type = "button";
      plus.textContent = "+";
      plus.className = "qty";
      plus.addEventListener("click", () => change(id, 1));
      const hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = "product";
      hidden.value = String(id);
      qty.append(hidden, minus, input, plus);
      const amount = document.createElement("td");
      const lineTotal = Number(item.product.price) * item.quantity;
      total += lineTotal;
      amount.textContent = lineTotal.toFixed(2);
      const remove = document.createElement("td");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = labels.remove;
      button.addEventListener("click", () => {
        cart.delete(id);
        render();
      });
      remove.append(button);
      row.append(name, qty, amount, remove);
      tbody.append(row);
    }
    if (!cart.size) {
      const row = document.createElement("tr");
      const cell = document.createElement("td");
      cell.colSpan = 4;
      cell.textContent = labels.empty;
      row.append(cell);
      tbody.append(row);
    }
    totalCell.textContent = total.toFixed(2);
  }

  function set(id, quantity) {
    const item = cart.get(id);
    if (!item) return;
    if (quantity > item.product.on_shelf) {
      say(format(labels.sold_out, { left: item.product.on_shelf, product: item.product.name }));
      quantity = item.product.on_shelf;
    } else {
      say("");
    }
    if (quantity < 1) cart.delete(id);
    else item.quantity = quantity;
    render();
  }

  function change(id, delta) {
    const item = cart.get(id);
    if (item) set(id, item.quantity + delta);
  }

  function add(product) {
    const item = cart.get(product.id);
    if (item) {
      item.product = product;
      set(product.id, item.quantity + 1);
    } else if (product.on_shelf < 1) {
      say(format(labels.sold_out, { left: 0, product: product.name }));
    } else {
      cart.set(product.id, { product, quantity: 1 });
      say("");
      render();
    }
  }

  async function get(path, params) {
    const query = new URLSearchParams({ site: site.value, ...params });
    const response = await fetch(`${api}${path}/?${query}`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    const body = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, body };
  }

  function showResults(products) {
    results.replaceChildren();
    if (!products.length) {
      const li = document.createElement("li");
      li.textContent = labels.none_found;
      results.append(li);
      return;
    }
    for (const product of products) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "till-hit";
      button.textContent = `${product.name} · ${product.sku} · ${product.price} · ${product.on_shelf} ${labels.on_shelf}`;
      button.addEventListener("click", () => {
        add(product);
        results.replaceChildren();
        scan.focus();
      });
      li.append(button);
      results.append(li);
    }
  }

  // One request per scan: the search answers exact barcode/SKU matches first-class, so a scan
  // adds at once and a name shows the choices (no 404s for the console to report).
  // Offline (static/staff/offline-till.js): the products come from what the till keeps.
  function lookupKept(code) {
    const found = shared.offlineLookup ? shared.offlineLookup(code) : null;
    if (!found) {
      say(labels.offline);
    } else if (found.exact) {
      results.replaceChildren();
      add(found.exact);
    } else if (found.matches.length) {
      showResults(found.matches);
      say("");
    } else {
      results.replaceChildren();
      say(format(labels.unknown, { code }));
    }
  }

  async function lookup(code) {
    if (shared.offline) {
      lookupKept(code);
      return;
    }
    try {
      const search = await get("products", { q: code });
      if (!search.ok) {
        say(Object.values(search.body).flat().join(" ") || labels.offline);
        return;
      }
      const exact = search.body.find((product) => product.exact);
      if (exact) {
        results.replaceChildren();
        add(exact);
      } else if (search.body.length) {
        showResults(search.body);
        say("");
      } else {
        results.replaceChildren();
        say(format(labels.unknown, { code }));
      }
    } catch (_error) {
      if (shared.unreachable) shared.unreachable();
      lookupKept(code);
    }
  }

  scan.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault(); // Enter from the scanner adds; it does not submit the sale
    const code = scan.value.trim();
    scan.value = "";
    if (code) lookup(code);
  });
  form.addEventListener("submit", () => {
    scan.value = ""; // the cart is posted, not what is left in the scan box
  });
  render();
})();
