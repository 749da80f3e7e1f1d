// The icos agent toolbar: one page over the JSON API of `icos serve`
// (docs/toolbar.md).  Plain JavaScript, no build step, no library: the
// Content-Security-Policy allows this file and app.css only.  Every rule
// (prices, offers, stock, what may change) is the server's; the page shows
// what the API answers, and a refusal's message, detail and hint.
"use strict";

const state = { csrf: null, session: null, basket: [], customerId: null, order: null, product: null };

const $ = (id) => document.getElementById(id);

function text(el, value) {
  el.textContent = value === null || value === undefined ? "" : String(value);
}

function money(v) {
  if (v === null || v === undefined || v === "") return "";
  const n = Number(v);
  return (n < 0 ? "-£" : "£") + Math.abs(n).toFixed(2);
}

function when(ts) {
  if (!ts) return "";
  const d = new Date(ts);
  return isNaN(d) ? String(ts) : d.toLocaleString("en-GB", { dateStyle: "short", timeStyle: "short" });
}

function today() {
  const d = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
}

// A table row of cells (text only: nothing from the server becomes HTML).
function row(cells) {
  const tr = document.createElement("tr");
  for (const c of cells) {
    const td = document.createElement("td");
    if (c instanceof Node) td.appendChild(c); else text(td, c);
    tr.appendChild(td);
  }
  return tr;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows.map(row));
}

// ---- errors ----

function clearError() {
  $("error").hidden = true;
}

function showError(e) {
  const a = e.api || { message: e.message || String(e) };
  text($("error-message"), a.message);
  text($("error-sqlstate"), a.sqlstate ? "[" + a.sqlstate + "]" : "");
  text($("error-detail"), a.detail);
  text($("error-hint"), a.hint);
  $("error").hidden = false;
  $("error").scrollIntoView({ block: "nearest" });
}

// ---- the API ----

async function api(method, path, body) {
  const opts = { method: method, headers: {}, credentials: "same-origin" };
  if (method !== "GET" && state.csrf) opts.headers["X-Icos-CSRF"] = state.csrf;
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(path, opts);
  const type = r.headers.get("Content-Type") || "";
  const data = type.startsWith("application/json") ? await r.json() : await r.text();
  if (!r.ok) {
    if (r.status === 401 && path !== "/api/login") loggedOut();
    const err = new Error((data && data.message) || r.statusText);
    err.api = typeof data === "object" ? data : { message: r.status + " " + r.statusText };
    err.status = r.status;
    throw err;
  }
  return data;
}

// Run an action; show its error if it fails.
async function act(fn) {
  clearError();
  try {
    await fn();
  } catch (e) {
    showError(e);
  }
}

// ---- screens ----

function show(name) {
  for (const s of document.querySelectorAll(".screen")) s.hidden = s.id !== "screen-" + name;
  for (const b of document.querySelectorAll("#nav button")) b.classList.toggle("active", b.dataset.screen === name);
  const first = { product: "product-code", order: "line-code", enquiry: "enquiry-code",
    login: "login-user" }[name];
  if (first) $(first).focus();
  if (name === "offers" && !$("offers-from").value) { $("offers-from").value = today(); act(loadOffers); }
  if (name === "sales" && !$("sales-from").value) { $("sales-from").value = $("sales-to").value = today(); act(loadSales); }
}

function loggedIn(answer) {
  state.csrf = answer.csrf;
  state.session = answer.session || {};
  const s = state.session;
  text($("who"), (s.name || s.user) + (s.store_name ? " · " + s.store_name : ""));
  $("nav").hidden = false;
  $("logout").hidden = false;
  if (s.store) $("order-store").value = s.store;
  if (s.store && s.store_name && /call/i.test(s.store_name)) $("order-channel").value = "phone";
  show("product");
}

function loggedOut() {
  state.csrf = null;
  state.session = null;
  $("nav").hidden = true;
  $("logout").hidden = true;
  text($("who"), "");
  show("login");
}

// ---- product look-up ----

async function lookUp(code) {
  const p = await api("GET", "/api/products/" + encodeURIComponent(code.trim()));
  state.product = p;
  text($("product-name"), p.name + (p.active === false ? " (withdrawn)" : ""));
  text($("product-upc"), p.upc);
  text($("product-category"), (p.category_path || []).join(" › "));
  text($("product-price"), money(p.price));
  text($("product-lead"), p.lead_time_days + " days");
  text($("product-mto"), p.made_to_order ? "yes" : "no");
  text($("product-offers"), (p.offers || []).map((o) => o.description || o.name).join("; ") || "none");
  fill($("product-availability"), (p.availability || []).map((a) =>
    [a.store_id, a.store_name, a.available, a.on_hand, a.reserved, a.on_display ? "yes" : "no", a.lead_time_days]));
  $("product-result").hidden = false;
}

// ---- order taking ----

function customerDoc() {
  if (state.customerId) return { id: state.customerId };
  const v = (id) => $(id).value.trim();
  const c = {};
  if (v("customer-name")) c.name = v("customer-name");
  if (v("customer-email")) c.email = v("customer-email");
  if (v("customer-phone")) c.phone = v("customer-phone");
  if (v("customer-line1") || v("customer-town") || v("customer-postcode")) {
    c.address = { line1: v("customer-line1"), town: v("customer-town"), postcode: v("customer-postcode") };
    if (v("customer-line2")) c.address.line2 = v("customer-line2");
  }
  return Object.keys(c).length ? c : undefined;
}

function basketDoc() {
  return {
    store: Number($("order-store").value) || undefined,
    channel: $("order-channel").value,
    lines: state.basket.map((l) => ({ upc: l.upc, qty: l.qty })),
  };
}

// Live pricing: the server prices the basket and says which offers apply and why others do not.
async function priceBasket() {
  const tbody = $("basket-lines");
  if (state.basket.length === 0) {
    tbody.replaceChildren();
    text($("basket-total"), money(0));
    text($("basket-discount"), "");
    $("basket-applied").replaceChildren();
    $("basket-not-applied").replaceChildren();
    return;
  }
  const priced = await api("POST", "/api/basket", basketDoc());
  fill(tbody, priced.lines.map((l, i) => {
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "Remove";
    remove.addEventListener("click", () => act(async () => { state.basket.splice(i, 1); await priceBasket(); }));
    return [l.line, l.upc, l.qty, money(l.unit_price), money(l.discount), money(l.net),
      (l.promotions || []).map((p) => "#" + p.id + " " + money(p.amount)).join(", "), remove];
  }));
  text($("basket-total"), money(priced.total));
  text($("basket-discount"), Number(priced.discount) ? "(saving " + money(priced.discount) + ")" : "");
  $("basket-applied").replaceChildren(...(priced.applied || []).map((a) => {
    const li = document.createElement("li");
    text(li, "Offer applied: " + a.name + (a.times > 1 ? " ×" + a.times : "") + ", saving " + money(a.amount));
    return li;
  }));
  $("basket-not-applied").replaceChildren(...(priced.not_applied || []).map((n) => {
    const li = document.createElement("li");
    text(li, "Offer #" + n.id + " not applied: " + n.reason + (n.detail ? " (" + n.detail + ")" : ""));
    return li;
  }));
  state.total = priced.total;
  $("payment-amount").placeholder = Number(priced.total).toFixed(2);
}

async function addLine(code, qty) {
  code = code.trim();
  if (!code) return;
  const existing = state.basket.find((l) => l.upc === code);
  if (existing) existing.qty += qty; else state.basket.push({ upc: code, qty: qty });
  try {
    await priceBasket();
  } catch (e) {
    // the server refused the line (unknown product, bad code): take it out again
    if (existing) existing.qty -= qty; else state.basket.pop();
    await priceBasket().catch(() => {});
    throw e;
  }
}

async function findCustomers() {
  const q = $("customer-query").value.trim();
  if (!q) return;
  const found = await api("GET", "/api/customers?q=" + encodeURIComponent(q));
  const list = $("customer-results");
  list.replaceChildren(...found.map((c) => {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    const addr = c.address || (c.addresses && c.addresses[0]) || {};
    text(b, [c.name, c.email, c.phone, addr.postcode].filter(Boolean).join(" · "));
    b.addEventListener("click", () => {
      state.customerId = c.id !== undefined ? c.id : c.customer_id;
      text($("customer-chosen"), "Customer: " + b.textContent + " ");
      const clear = document.createElement("button");
      clear.type = "button";
      clear.textContent = "Another customer";
      clear.addEventListener("click", () => { state.customerId = null; $("customer-chosen").hidden = true; $("customer-new").hidden = false; });
      $("customer-chosen").appendChild(clear);
      $("customer-chosen").hidden = false;
      $("customer-new").hidden = true;
      list.replaceChildren();
    });
    li.appendChild(b);
    return li;
  }));
  if (found.length === 0) {
    const li = document.createElement("li");
    li.textContent = "No customer found: enter a new one below.";
    list.appendChild(li);
  }
}

async function placeOrder() {
  const doc = basketDoc();
  const customer = customerDoc();
  if (customer) doc.customer = customer;
  const delivery = { method: $("delivery-method").value };
  if (delivery.method === "collect" && $("delivery-store").value) delivery.collect_store = Number($("delivery-store").value);
  if ($("delivery-date").value) delivery.date = $("delivery-date").value;
  if (delivery.method === "home" && customer && customer.address) delivery.address = customer.address;
  doc.delivery = delivery;
  const amount = $("payment-amount").value.trim() || (state.total !== undefined ? Number(state.total).toFixed(2) : "");
  if (amount) {
    const p = { method: $("payment-method").value, amount: Number(amount) };
    if ($("payment-reference").value.trim()) p.reference = $("payment-reference").value.trim();
    doc.payments = [p];
  }
  const placed = await api("POST", "/api/orders", doc);
  text($("order-code"), placed.code);
  text($("order-receipt"), await api("GET", "/api/orders/" + encodeURIComponent(placed.code) + "/receipt"));
  $("order-placed").hidden = false;
  $("order-place").disabled = true;
}

function newOrder() {
  state.basket = [];
  state.customerId = null;
  state.total = undefined;
  for (const id of ["customer-query", "customer-name", "customer-email", "customer-phone", "customer-line1",
    "customer-line2", "customer-town", "customer-postcode", "payment-amount", "payment-reference", "delivery-date"]) {
    $(id).value = "";
  }
  $("customer-results").replaceChildren();
  $("customer-chosen").hidden = true;
  $("customer-new").hidden = false;
  $("order-placed").hidden = true;
  $("order-place").disabled = false;
  priceBasket().catch(showError);
  $("line-code").focus();
}

// ---- enquiry, edits, cancellation ----

function showOrder(o) {
  state.order = o;
  text($("enquiry-order-code"), o.code);
  text($("enquiry-status"), o.status);
  text($("enquiry-channel"), o.channel);
  text($("enquiry-store"), o.store + (o.store_name ? " " + o.store_name : ""));
  text($("enquiry-placed"), when(o.placed_at));
  const c = o.customer;
  text($("enquiry-customer"), c && typeof c === "object" ? [c.name, c.email, c.phone].filter(Boolean).join(", ") : "none");
  const d = o.delivery || {};
  const a = d.address || {};
  text($("enquiry-delivery"), [d.method, d.collect_store ? "store " + d.collect_store : "",
    [a.line1, a.line2, a.town, a.postcode].filter(Boolean).join(", "), d.date ? "on " + d.date : ""].filter(Boolean).join(" · "));
  text($("enquiry-promised"), o.promised_date);
  text($("enquiry-total"), money(o.total));
  text($("enquiry-paid"), money(o.paid));
  text($("enquiry-balance"), Number(o.balance) < 0 ? "refund due " + money(-o.balance) : money(o.balance));
  fill($("enquiry-lines"), (o.lines || []).map((l) =>
    [l.line, l.upc, l.name, l.qty, money(l.unit_price), money(l.discount), money(l.net), l.status, l.fulfil_from]));
  fill($("enquiry-payments"), (o.payments || []).map((p) =>
    [when(p.at), p.kind, p.method, money(p.amount), p.reference]));
  fill($("enquiry-events"), (o.events || []).map((e) =>
    [when(e.at), e.kind + (e.topic ? " (" + e.topic + ")" : ""), e.employee, e.note]));
  $("enquiry-receipt").hidden = true;
  $("enquiry-result").hidden = false;
}

async function findOrder(code) {
  showOrder(await api("GET", "/api/orders/" + encodeURIComponent(code.trim())));
}

async function editOrder(changes) {
  showOrder(await api("POST", "/api/orders/" + encodeURIComponent(state.order.code) + "/edit", changes));
}

async function reprint() {
  text($("enquiry-receipt"), await api("GET", "/api/orders/" + encodeURIComponent(state.order.code) + "/receipt?reprint=true"));
  $("enquiry-receipt").hidden = false;
}

// ---- offers and sales ----

async function loadOffers() {
  let q = "?from=" + encodeURIComponent($("offers-from").value || today());
  if ($("offers-to").value) q += "&to=" + encodeURIComponent($("offers-to").value);
  const rows = await api("GET", "/api/offers" + q);
  fill($("offers-rows"), rows.length ? rows.map((o) => [o.day, o.promotion_id, o.name, o.description, when(o.starts_at), when(o.ends_at)])
    : [["No offers on these days."]]);
}

async function loadSales() {
  const q = "?from=" + encodeURIComponent($("sales-from").value || today()) +
    "&to=" + encodeURIComponent($("sales-to").value || $("sales-from").value || today()) +
    "&by=" + encodeURIComponent($("sales-by").value);
  const rows = await api("GET", "/api/reports/sales" + q);
  fill($("sales-rows"), rows.length ? rows.map((r) => [r.key, r.label, r.orders, r.units, money(r.gross), money(r.discount), money(r.net), money(r.returns)])
    : [["No sales in this period."]]);
}

// ---- wiring ----

function onSubmit(id, fn) {
  $(id).addEventListener("submit", (ev) => { ev.preventDefault(); act(fn); });
}

function onClick(id, fn) {
  $(id).addEventListener("click", () => act(fn));
}

document.addEventListener("DOMContentLoaded", () => {
  onSubmit("login-form", async () => {
    const answer = await api("POST", "/api/login", { user: $("login-user").value.trim(), password: $("login-password").value });
    $("login-password").value = "";
    loggedIn(answer);
  });
  onClick("logout", async () => { await api("POST", "/api/logout"); loggedOut(); });
  for (const b of document.querySelectorAll("#nav button")) b.addEventListener("click", () => { clearError(); show(b.dataset.screen); });

  // a scanner types the digits and Enter: the form submits, the field is ready for the next scan
  onSubmit("product-form", async () => { await lookUp($("product-code").value); $("product-code").select(); });
  onClick("product-add", async () => { show("order"); await addLine(state.product.upc, 1); });

  onSubmit("customer-search-form", findCustomers);
  onSubmit("line-form", async () => {
    await addLine($("line-code").value, Math.max(1, Number($("line-qty").value) || 1));
    $("line-code").value = "";
    $("line-qty").value = 1;
    $("line-code").focus();
  });
  $("order-channel").addEventListener("change", () => act(priceBasket));
  onClick("order-place", placeOrder);
  $("order-print").addEventListener("click", () => window.print());
  $("order-new").addEventListener("click", newOrder);

  onSubmit("enquiry-form", async () => { await findOrder($("enquiry-code").value); });
  onClick("enquiry-reprint", reprint);
  onSubmit("edit-add-form", async () => {
    await editOrder({ add_lines: [{ upc: $("edit-add-code").value.trim(), qty: Number($("edit-add-qty").value) || 1 }] });
    $("edit-add-code").value = "";
  });
  onSubmit("edit-qty-form", () => editOrder({ set_qty: [{ line: Number($("edit-qty-line").value), qty: Number($("edit-qty-qty").value) }] }));
  onClick("edit-cancel-line", () => editOrder({ cancel_lines: [Number($("edit-qty-line").value)] }));
  onSubmit("edit-date-form", () => editOrder({ delivery_date: $("edit-date").value }));
  onSubmit("edit-pay-form", async () => {
    const p = { method: $("edit-pay-method").value, amount: Number($("edit-pay-amount").value) };
    if ($("edit-pay-reference").value.trim()) p.reference = $("edit-pay-reference").value.trim();
    await editOrder({ payments: [p] });
  });
  onSubmit("cancel-form", async () => {
    showOrder(await api("POST", "/api/orders/" + encodeURIComponent(state.order.code) + "/cancel", { reason: $("cancel-reason").value }));
  });

  onSubmit("offers-form", loadOffers);
  onSubmit("sales-form", loadSales);

  // a reloaded page keeps its session
  api("GET", "/api/session").then(loggedIn, () => loggedOut());
});
