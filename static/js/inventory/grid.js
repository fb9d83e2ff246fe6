// Table body and pagination rendering. Every value from the ERP goes in as text (textContent),
// never as markup: part names and descriptions may look like HTML or spreadsheet formulas.
import { formatCount, formatDate, formatQuantity, statusClass } from "./format.js";

// How a column's cells are drawn; anything not listed is plain text.
const CELL_KIND = {
  part: "row-header",
  description: "wrap",
  on_hand: "number",
  unit: "muted",
  expires: "date",
  last_transaction: "date",
  received: "date",
  status: "status",
};

function cellFor(kind, value) {
  if (kind === "row-header") {
    // The part names the row for screen readers moving along it.
    const th = document.createElement("th");
    th.scope = "row";
    th.className = "col-part";
    if (value != null) th.textContent = String(value);
    return th;
  }
  const td = document.createElement("td");
  if (value == null || value === "") return td;
  switch (kind) {
    case "number":
      td.className = "num";
      td.textContent = formatQuantity(value);
      break;
    case "date":
      td.textContent = formatDate(value);
      break;
    case "status": {
      const badge = document.createElement("span");
      badge.className = `badge ${statusClass(value)}`;
      badge.textContent = String(value);
      td.append(badge);
      break;
    }
    case "wrap":
      td.className = "wrap";
      td.textContent = String(value);
      break;
    case "muted":
      td.className = "muted";
      td.textContent = String(value);
      break;
    default:
      td.textContent = String(value);
  }
  return td;
}

/**
 * Replaces the body's rows. `apiColumns` is the response's column list, `shown` the columns to
 * draw (in order), `rows` arrays of values in `apiColumns` order. Built off-document in one
 * fragment so a 1,000-row page costs one layout.
 */
export function renderRows(tbody, apiColumns, shown, rows) {
  const indexes = shown.map((name) => apiColumns.indexOf(name));
  const kinds = shown.map((name) => CELL_KIND[name] ?? "text");
  const fragment = document.createDocumentFragment();
  for (const row of rows) {
    const tr = document.createElement("tr");
    for (let k = 0; k < indexes.length; k++) {
      tr.append(cellFor(kinds[k], indexes[k] >= 0 ? row[indexes[k]] : null));
    }
    fragment.append(tr);
  }
  tbody.replaceChildren(fragment);
}

/** Page numbers to offer around `page` of `pages`: the first, the last, neighbours, and gaps. */
export function pageItems(page, pages, around = 1) {
  const items = [];
  let last = 0;
  for (let p = 1; p <= pages; p++) {
    const keep = p === 1 || p === pages || Math.abs(p - page) <= around ||
      // Fill a gap of one page with the page itself rather than an ellipsis.
      (p === 2 && page - around === 3) || (p === pages - 1 && page + around === pages - 2);
    if (!keep) continue;
    if (p - last > 1) items.push("gap");
    items.push(p);
    last = p;
  }
  return items;
}

const SVG = "http://www.w3.org/2000/svg";

function chevron(direction) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "icon");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", direction === "previous" ? "m14.5 6-6 6 6 6" : "m9.5 6 6 6-6 6");
  svg.append(path);
  return svg;
}

function stepButton(direction, target, disabled) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = `pagination__link pagination__step pagination__step--${direction}`;
  button.dataset.page = String(target);
  button.dataset.focusKey = direction;
  button.disabled = disabled;
  const text = document.createElement("span");
  text.className = "pagination__step-text";
  text.textContent = direction === "previous" ? "Previous" : "Next";
  if (direction === "previous") button.append(chevron(direction), text);
  else button.append(text, chevron(direction));
  return button;
}

/** Fills the pagination list with Previous, page numbers and Next buttons (data-page = target). */
export function renderPagination(list, page, pages) {
  const fragment = document.createDocumentFragment();
  const add = (node) => {
    const li = document.createElement("li");
    li.append(node);
    fragment.append(li);
  };
  add(stepButton("previous", page - 1, page <= 1));
  for (const item of pageItems(page, pages)) {
    if (item === "gap") {
      const gap = document.createElement("span");
      gap.className = "pagination__gap";
      gap.textContent = "…";
      gap.setAttribute("aria-hidden", "true");
      add(gap);
      continue;
    }
    const button = document.createElement("button");
    button.type = "button";
    button.className = "pagination__link";
    button.dataset.page = String(item);
    button.dataset.focusKey = `page-${item}`;
    button.textContent = formatCount(item);
    button.setAttribute("aria-label", `Page ${formatCount(item)}`);
    if (item === page) button.setAttribute("aria-current", "page");
    add(button);
  }
  add(stepButton("next", page + 1, page >= pages));
  list.replaceChildren(fragment);
}
