// The inventory view's state (filters, sort, page, page size) and its round trip through a query
// string. The page URL and the API request use the same parameters (SPEC §4), so a link, a reload
// or the Back button shows exactly the same rows.

/** The API's columns in contract order (SPEC §5). */
export const COLUMNS = [
  "customer",
  "part",
  "customer_part",
  "description",
  "on_hand",
  "unit",
  "bin",
  "warehouse",
  "reference",
  "lot",
  "expires",
  "last_transaction",
  "received",
  "po",
  "status",
];

/** Exact-match filters and the search, in the order they appear in a URL. */
export const FILTER_KEYS = ["q", "customer", "part", "bin", "status", "lot", "warehouse"];

export const PAGE_SIZES = [25, 50, 100, 250, 500];
export const DEFAULT_PER_PAGE = 100;
export const MAX_PER_PAGE = 1000;
/** The server sorts by part (then lot) when no sort is given. */
export const DEFAULT_SORT = "part";

const MAX_VALUE_LENGTH = 200; // the API refuses longer values

/** A fresh state: no filters, default sort, first page. */
export function initialState() {
  const state = { sort: "", order: "asc", then: "", thenOrder: "asc", page: 1, per_page: DEFAULT_PER_PAGE };
  for (const key of FILTER_KEYS) state[key] = "";
  return state;
}

function wholeNumber(text, min, max) {
  if (!/^\d{1,10}$/.test(text ?? "")) return null;
  const value = Number(text);
  return value >= min && value <= max ? value : null;
}

/**
 * Reads a state from a query string ("?a=b…" or a URLSearchParams). Values the API would refuse
 * (an unknown sort column, page 0, per_page 5000) fall back to the defaults rather than showing an
 * error for a hand-edited address.
 */
export function stateFromSearch(search) {
  const params = search instanceof URLSearchParams ? search : new URLSearchParams(search);
  const state = initialState();
  for (const key of FILTER_KEYS) {
    const value = params.get(key) ?? "";
    state[key] = (key === "q" ? value.trim() : value).slice(0, MAX_VALUE_LENGTH);
  }
  // sort=a,b and order=x,y: a secondary sort among rows equal in the first column.
  const [sort = "", then = ""] = (params.get("sort") ?? "").split(",");
  const [order, thenOrder] = (params.get("order") ?? "").split(",");
  state.sort = COLUMNS.includes(sort) ? sort : "";
  state.order = order === "desc" ? "desc" : "asc";
  if (COLUMNS.includes(then) && then !== effectiveSort(state)) {
    state.then = then;
    state.thenOrder = thenOrder === "desc" ? "desc" : "asc";
  }
  state.page = wholeNumber(params.get("page"), 1, 1_000_000_000) ?? 1;
  state.per_page = wholeNumber(params.get("per_page"), 1, MAX_PER_PAGE) ?? DEFAULT_PER_PAGE;
  return state;
}

/** The query string of a state, without "?", leaving out defaults so addresses stay short. */
export function searchFromState(state) {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) if (state[key]) params.set(key, state[key]);
  if (state.then) {
    params.set("sort", `${effectiveSort(state)},${state.then}`);
    params.set("order", `${state.order},${state.thenOrder}`);
  } else {
    if (state.sort) params.set("sort", state.sort);
    if (state.order === "desc") params.set("order", "desc");
  }
  if (state.page > 1) params.set("page", String(state.page));
  if (state.per_page !== DEFAULT_PER_PAGE) params.set("per_page", String(state.per_page));
  return params.toString();
}

/** True when any filter or the search narrows the rows. */
export function hasFilters(state) {
  return FILTER_KEYS.some((key) => state[key] !== "");
}

/** The column the rows are sorted by, as the server applies it. */
export function effectiveSort(state) {
  return state.sort || DEFAULT_SORT;
}
