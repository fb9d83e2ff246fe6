// The inventory page: keeps the filters, sort and page in the address (so links, reload and
// Back/Forward work), asks GET /api/v1/inventory for the rows, and draws the grid, the cascading
// filter dropdowns, the pagination and the banners for a stale or unreachable ERP.
import { formatCount, formatDateTime, formatList } from "./inventory/format.js";
import { renderPagination, renderRows } from "./inventory/grid.js";
import {
  COLUMNS,
  FILTER_KEYS,
  PAGE_SIZES,
  effectiveSort,
  hasFilters,
  searchFromState,
  stateFromSearch,
} from "./inventory/state.js";

const SEARCH_DELAY_MS = 300;
const BUSY_DELAY_MS = 200;
// An administrator's read-only preview of a customer's grid names its own API and sign-in page.
const DEFAULT_API_PATH = "/api/v1/inventory";

const root = document.querySelector("[data-inventory]");
if (root) start(root);

function start(root) {
  const $ = (selector) => root.querySelector(selector);
  const API_PATH = root.dataset.apiUrl || DEFAULT_API_PATH;
  const SIGN_IN_PATH = root.dataset.signInUrl || "/login";
  const el = {
    title: $("[data-customer-title]"),
    caption: $("#inventory-caption"),
    asOf: $("[data-as-of]"),
    asOfTime: $("[data-as-of-time]"),
    refresh: $("[data-refresh]"),
    staleBanner: $('[data-banner="stale"]'),
    staleTime: $("[data-stale-time]"),
    downBanner: $('[data-banner="down"]'),
    downMessage: $("[data-down-message]"),
    errorBanner: $('[data-banner="error"]'),
    errorTitle: $("[data-error-title]"),
    errorMessage: $("[data-error-message]"),
    errorAction: $("[data-error-action]"),
    form: $("[data-filters]"),
    q: $("#filter-q"),
    customer: $("#filter-customer"),
    part: $("#filter-part"),
    bin: $("#filter-bin"),
    status: $("#filter-status"),
    perPage: $("#filter-per-page"),
    summary: $("[data-summary]"),
    busy: $("[data-busy]"),
    chips: $("[data-chips]"),
    gridWrap: $("[data-grid-wrap]"),
    grid: $("[data-grid]"),
    rows: $("[data-rows]"),
    loading: $("[data-loading]"),
    empty: $("[data-empty]"),
    emptyTitle: $("[data-empty-title]"),
    emptyText: $("[data-empty-text]"),
    emptyReset: $("[data-empty] [data-reset]"),
    pagination: $("[data-pagination]"),
    pageInfo: $("[data-page-info]"),
    pageList: $("[data-page-list]"),
  };
  const headers = new Map([...root.querySelectorAll("th[data-column]")].map((th) => [th.dataset.column, th]));

  const multiCustomer = root.dataset.multiCustomer === "true";
  const label = root.dataset.customerLabel ?? "";
  // An account linked to several ERP names is labelled "A|B"; "All customers" names none.
  const accountNames = multiCustomer && label.includes("|")
    ? label.split("|").map((name) => name.trim()).filter(Boolean)
    : [];
  if (accountNames.length > 1) {
    const shown = formatList(accountNames);
    el.title.textContent = shown;
    el.caption.textContent = `Stock for ${shown}`;
  }

  let state = stateFromSearch(location.search);
  let inFlight = null; // AbortController of the newest request
  let requestSeq = 0;
  let searchTimer = 0;
  let busyTimer = 0;
  let lastPushWasSearch = false;
  let everRendered = false;
  const facetKeys = new WeakMap(); // select → the values it currently offers, joined

  // ------------------------------------------------------------------------------------------
  // State ↔ address and controls

  function currentUrl() {
    const qs = searchFromState(state);
    return location.pathname + (qs ? `?${qs}` : "");
  }

  /**
   * Applies a change from the person: filters and page size go back to page 1; the address gets a
   * new history entry (a run of search keystrokes shares one), then the rows are fetched.
   */
  function commit(changes, { fromSearch = false, replace = false } = {}) {
    const next = { ...state, ...changes };
    const narrowed = FILTER_KEYS.some((key) => key in changes && changes[key] !== state[key]);
    if ((narrowed || ("per_page" in changes && changes.per_page !== state.per_page)) && !("page" in changes)) {
      next.page = 1;
    }
    state = next;
    const url = currentUrl();
    if (url !== location.pathname + location.search) {
      if (replace || (fromSearch && lastPushWasSearch)) history.replaceState(null, "", url);
      else history.pushState(null, "", url);
    }
    lastPushWasSearch = fromSearch;
    syncControls();
    load({ scrollTop: true });
  }

  function setSelect(select, value) {
    if (!select) return;
    if (value && ![...select.options].some((option) => option.value === value)) {
      select.append(new Option(value, value));
    }
    select.value = value;
  }

  function syncControls() {
    if (el.q !== document.activeElement || el.q.value.trim() !== state.q) el.q.value = state.q;
    setSelect(el.part, state.part);
    setSelect(el.bin, state.bin);
    setSelect(el.status, state.status);
    if (el.customer) {
      if (el.customer.tagName === "SELECT") setSelect(el.customer, state.customer);
      else el.customer.value = state.customer;
    }
    const size = String(state.per_page);
    if (![...el.perPage.options].some((option) => option.value === size)) {
      // A size from a link that the menu does not offer (the API allows 1–1000): offer it too.
      const sizes = [...new Set([...PAGE_SIZES, state.per_page])].sort((a, b) => a - b);
      el.perPage.replaceChildren(...sizes.map((n) => new Option(formatCount(n), String(n))));
    }
    el.perPage.value = size;
    syncSortHeaders();
    syncChips();
  }

  // aria-sort marks the primary column only (one per table); the secondary one carries a
  // "then" marker and says so in its button's accessible name.
  function syncSortHeaders() {
    const column = effectiveSort(state);
    for (const [name, th] of headers) {
      if (name === column) th.setAttribute("aria-sort", state.order === "desc" ? "descending" : "ascending");
      else th.removeAttribute("aria-sort");
      const button = th.querySelector("[data-sort]");
      let note = button?.querySelector("[data-sort-then]");
      if (name === state.then) {
        th.dataset.sortThen = state.thenOrder === "desc" ? "descending" : "ascending";
        if (button && !note) {
          note = document.createElement("span");
          note.className = "visually-hidden";
          note.dataset.sortThen = "";
          button.append(note);
        }
        if (note) note.textContent = `, then sorted ${th.dataset.sortThen}`;
      } else {
        delete th.dataset.sortThen;
        note?.remove();
      }
    }
  }

  // Filters that have no control of their own (lot, warehouse — from a shared link) show as chips.
  const CHIP_LABELS = { lot: "Lot", warehouse: "Warehouse" };
  function syncChips() {
    const items = [];
    for (const [key, name] of Object.entries(CHIP_LABELS)) {
      if (!state[key]) continue;
      const li = document.createElement("li");
      const chip = document.createElement("span");
      chip.className = "chip";
      chip.append(`${name}: ${state[key]}`);
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "chip__remove";
      remove.dataset.clear = key;
      remove.setAttribute("aria-label", `Remove filter ${name}: ${state[key]}`);
      remove.textContent = "×";
      chip.append(remove);
      li.append(chip);
      items.push(li);
    }
    el.chips.replaceChildren(...items);
    el.chips.hidden = items.length === 0;
  }

  /** Offers `values` in a filter dropdown after its "All …" choice, keeping the current choice. */
  function fillSelect(select, values, current) {
    if (!select) return;
    const key = values.join("\u0000");
    if (facetKeys.get(select) !== key) {
      facetKeys.set(select, key);
      const fragment = document.createDocumentFragment();
      fragment.append(select.options[0]); // "All parts", …
      for (const value of values) fragment.append(new Option(value, value));
      select.replaceChildren(fragment);
    }
    setSelect(select, current);
  }

  // Accounts that see every customer get no list of names from the page: the Customer filter is
  // then a text field with suggestions from the rows seen so far, unless the API sends a facet.
  let seenCustomers = null;
  function customerChoices(body) {
    if (!el.customer) return;
    const fromApi = body.facets?.customer;
    if (Array.isArray(fromApi)) return fillCustomerSelect(fromApi);
    if (accountNames.length > 1) return fillCustomerSelect([...accountNames].sort((a, b) => a.localeCompare(b)));
    if (el.customer.tagName === "SELECT") {
      const input = document.createElement("input");
      input.className = "input";
      input.type = "text";
      input.id = el.customer.id;
      input.name = "customer";
      input.autocomplete = "off";
      input.spellcheck = false;
      input.placeholder = "Any customer";
      input.setAttribute("list", "customer-names");
      const list = document.createElement("datalist");
      list.id = "customer-names";
      el.customer.replaceWith(input, list);
      el.customer = input;
      el.customer.value = state.customer;
      seenCustomers = new Set();
    }
    const index = body.columns.indexOf("customer");
    if (index < 0) return;
    const before = seenCustomers.size;
    for (const row of body.rows) if (row[index]) seenCustomers.add(String(row[index]));
    if (seenCustomers.size !== before) {
      const list = root.querySelector("#customer-names");
      list.replaceChildren(...[...seenCustomers].sort((a, b) => a.localeCompare(b)).map((name) => new Option(name)));
    }
  }

  function fillCustomerSelect(names) {
    if (el.customer.tagName !== "SELECT") return;
    fillSelect(el.customer, names, state.customer);
  }

  // ------------------------------------------------------------------------------------------
  // Fetching

  function setBusy(busy) {
    clearTimeout(busyTimer);
    el.gridWrap.setAttribute("aria-busy", String(busy));
    root.dataset.state = busy ? "loading" : root.dataset.state === "loading" ? "ready" : root.dataset.state;
    if (busy && everRendered) busyTimer = setTimeout(() => (el.busy.hidden = false), BUSY_DELAY_MS);
    else el.busy.hidden = true;
  }

  async function load({ scrollTop = false } = {}) {
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    const seq = ++requestSeq;
    setBusy(true);
    if (!el.rows.firstElementChild) {
      // Nothing on screen yet (first load, or after an error): say that stock is on its way.
      el.gridWrap.hidden = false;
      el.gridWrap.classList.remove("is-empty");
      el.grid.hidden = false;
      el.empty.hidden = true;
      el.loading.hidden = false;
    }
    let response;
    let body = null;
    try {
      response = await fetch(`${API_PATH}?${searchFromState(state)}`, {
        headers: { "X-Requested-With": "fetch", Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
        signal: controller.signal,
      });
      if (response.status === 401) {
        // Signed out (session ended elsewhere, or timed out): sign in again and come back here.
        location.assign(`${SIGN_IN_PATH}?next=${encodeURIComponent(location.pathname + location.search)}`);
        return;
      }
      body = await response.json().catch(() => null);
    } catch (error) {
      if (error?.name === "AbortError") return;
      if (seq !== requestSeq) return;
      showError("The stock could not be loaded", "The portal did not answer. Check your connection and try again.");
      setBusy(false);
      root.dataset.state = "error";
      return;
    }
    if (seq !== requestSeq) return; // a newer request has started
    inFlight = null;
    setBusy(false);

    if (response.ok && body && Array.isArray(body.rows)) {
      const pages = Math.max(1, Math.ceil(body.total / state.per_page));
      if (body.rows.length === 0 && body.total > 0 && state.page > pages) {
        // A page past the end (rows went away since the link was made): show the last page.
        commit({ page: pages }, { replace: true });
        return;
      }
      render(body, { scrollTop });
      root.dataset.state = "ready";
    } else if (response.status === 503) {
      showDown(body?.error || "The warehouse system is not answering. Please try again in a few minutes.");
      root.dataset.state = "down";
    } else if (response.status === 400) {
      showError(
        "These filters cannot be used",
        `${body?.error ? `${sentence(body.error)} ` : ""}Reset the filters to see your stock again.`,
        "reset",
      );
      root.dataset.state = "error";
    } else {
      showError(
        "The stock could not be loaded",
        body?.error ? sentence(body.error) : "Something went wrong on our side. Please try again.",
      );
      root.dataset.state = "error";
    }
  }

  function sentence(text) {
    const t = String(text).trim();
    return (t.charAt(0).toUpperCase() + t.slice(1)).replace(/([^.!?])$/, "$1.");
  }

  // ------------------------------------------------------------------------------------------
  // Drawing

  function render(body, { scrollTop }) {
    el.gridWrap.hidden = false;
    // "Try again" worked: its banner goes away, so the keyboard continues from the grid.
    if (el.downBanner.contains(document.activeElement) || el.errorBanner.contains(document.activeElement)) {
      el.gridWrap.focus();
    }
    el.downBanner.hidden = true;
    el.errorBanner.hidden = true;

    // Columns: what the query returned, without the customer column for a single-customer account,
    // in the header's order (status sits next to the quantity, where a reader looks first).
    const shown = COLUMNS.filter((name) => body.columns.includes(name) && (name !== "customer" || multiCustomer));
    for (const [name, th] of headers) th.hidden = !shown.includes(name);
    const drawn = [...headers.keys()].filter((name) => shown.includes(name));

    fillSelect(el.part, body.facets?.part ?? [], state.part);
    fillSelect(el.bin, body.facets?.bin ?? [], state.bin);
    fillSelect(el.status, body.facets?.status ?? [], state.status);
    customerChoices(body);

    renderRows(el.rows, body.columns, drawn, body.rows);
    if (scrollTop) el.gridWrap.scrollTop = 0;

    el.grid.hidden = false;
    el.loading.hidden = true;
    el.empty.hidden = body.total > 0;
    if (body.total === 0) {
      // No rows and no filters: the account has no stock at all, and there is nothing to reset.
      const filtered = hasFilters(state);
      el.emptyTitle.textContent = filtered ? "No stock matches these filters" : "No stock on hand";
      el.emptyText.textContent = filtered
        ? "Try a shorter search or clear a filter."
        : "The warehouse holds no stock for your account at the moment.";
      el.emptyReset.hidden = !filtered;
    }
    el.gridWrap.classList.toggle("is-empty", body.total === 0);
    everRendered = true;

    // "Showing 1–100 of 15,000 rows": read out by the live region.
    const total = body.total;
    const first = body.rows.length ? (state.page - 1) * state.per_page + 1 : 0;
    const last = first ? first + body.rows.length - 1 : 0;
    const rowsWord = total === 1 ? "row" : "rows";
    el.summary.textContent = total === 0
      ? hasFilters(state) ? "No rows match these filters" : "No stock on hand"
      : first === last
        ? `Showing ${formatCount(first)} of ${formatCount(total)} ${rowsWord}`
        : `Showing ${formatCount(first)}–${formatCount(last)} of ${formatCount(total)} ${rowsWord}`;

    const pages = Math.max(1, Math.ceil(total / state.per_page));
    el.pagination.hidden = total === 0;
    el.pageInfo.textContent = `Page ${formatCount(Math.min(state.page, pages))} of ${formatCount(pages)}`;
    const focusKey = el.pageList.contains(document.activeElement) ? document.activeElement.dataset.focusKey : null;
    renderPagination(el.pageList, state.page, pages);
    if (focusKey) {
      // Keep the keyboard where it was: the same button, or the current page when it went away.
      const target = el.pageList.querySelector(`[data-focus-key="${focusKey}"]:not(:disabled)`) ??
        el.pageList.querySelector('[aria-current="page"]');
      target?.focus();
    }

    const when = formatDateTime(body.as_of);
    el.asOf.hidden = !when;
    el.asOfTime.textContent = when;
    el.asOfTime.dateTime = body.as_of ?? "";
    el.staleBanner.hidden = !body.stale;
    el.staleTime.textContent = when || "the last successful update";
    el.staleTime.dateTime = body.as_of ?? "";
    el.refresh.hidden = false;
  }

  function clearGrid() {
    el.rows.replaceChildren();
    el.gridWrap.hidden = true;
    el.loading.hidden = true;
    el.empty.hidden = true;
    el.pagination.hidden = true;
    el.staleBanner.hidden = true;
    el.grid.hidden = true;
  }

  function showDown(message) {
    clearGrid();
    el.errorBanner.hidden = true;
    el.downMessage.textContent = message;
    el.downBanner.hidden = false;
    el.summary.textContent = ""; // the banner is the alert; an echo of it here would be read twice
  }

  /** An error banner whose button tries again, or (for filters the API refused) resets them. */
  function showError(title, message, action = "retry") {
    clearGrid();
    el.downBanner.hidden = true;
    el.errorTitle.textContent = title;
    el.errorMessage.textContent = message;
    el.errorAction.dataset.action = action;
    el.errorAction.textContent = action === "reset" ? "Reset filters" : "Try again";
    el.errorBanner.hidden = false;
    el.summary.textContent = ""; // the banner is the alert
  }

  // ------------------------------------------------------------------------------------------
  // Events

  function resetFilters() {
    clearTimeout(searchTimer);
    const cleared = {};
    for (const key of FILTER_KEYS) cleared[key] = "";
    commit({ ...cleared, page: 1 });
  }

  el.q.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      const q = el.q.value.trim();
      if (q !== state.q) commit({ q }, { fromSearch: true });
    }, SEARCH_DELAY_MS);
  });

  el.form.addEventListener("submit", (event) => {
    // Enter in the search box: search now rather than after the pause.
    event.preventDefault();
    clearTimeout(searchTimer);
    const q = el.q.value.trim();
    if (q !== state.q) commit({ q }, { fromSearch: true });
  });

  el.form.addEventListener("change", (event) => {
    const control = event.target;
    switch (control.name) {
      case "part":
      case "bin":
      case "status":
      case "customer":
        if (control.value !== state[control.name]) commit({ [control.name]: control.value });
        break;
      case "per_page":
        commit({ per_page: Number(control.value) });
        break;
      default:
    }
  });

  for (const button of root.querySelectorAll("[data-reset]")) {
    button.addEventListener("click", () => {
      const fromEmptyState = el.empty.contains(button);
      resetFilters();
      // The empty state's button goes away with the empty state; carry on from the search box.
      if (fromEmptyState) el.q.focus();
    });
  }

  for (const button of root.querySelectorAll("[data-retry]")) button.addEventListener("click", () => load());
  el.errorAction.addEventListener("click", () => {
    if (el.errorAction.dataset.action === "reset") {
      resetFilters();
      el.q.focus();
    } else {
      load();
    }
  });
  el.refresh.addEventListener("click", () => load());

  el.chips.addEventListener("click", (event) => {
    const button = event.target.closest("[data-clear]");
    if (!button) return;
    commit({ [button.dataset.clear]: "" });
    el.q.focus();
  });

  el.grid.querySelector("thead").addEventListener("click", (event) => {
    const button = event.target.closest("[data-sort]");
    if (!button) return;
    const column = button.dataset.sort;
    const flip = (order) => (order === "asc" ? "desc" : "asc");
    // Shift-click (or Shift+Enter) adds the column as a secondary sort, or flips it.
    if (event.shiftKey && column !== effectiveSort(state)) {
      const thenOrder = state.then === column ? flip(state.thenOrder) : "asc";
      return commit({ then: column, thenOrder, page: 1 });
    }
    const order = effectiveSort(state) === column ? flip(state.order) : "asc";
    const keep = event.shiftKey ? { then: state.then, thenOrder: state.thenOrder } : { then: "", thenOrder: "asc" };
    commit({ sort: column, order, page: 1, ...keep });
  });

  el.pageList.addEventListener("click", (event) => {
    const button = event.target.closest("[data-page]");
    if (!button || button.disabled) return;
    const page = Number(button.dataset.page);
    if (page >= 1 && page !== state.page) commit({ page });
  });

  window.addEventListener("popstate", () => {
    clearTimeout(searchTimer);
    state = stateFromSearch(location.search);
    lastPushWasSearch = false;
    syncControls();
    load({ scrollTop: true });
  });

  // First paint: controls from the address, then the rows.
  syncControls();
  load();
}
