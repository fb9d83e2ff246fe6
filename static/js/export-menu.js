// The grid's Export menu: a <details class="dropdown" data-export-menu> whose two links download
// the current view — the filters and sort in the page's own address — as Excel or CSV. The server
// computes the rows again from its snapshot (SPEC §4); nothing is sent but the parameters.
//
// The address is read when the menu opens and again when a link is used, because the grid
// changes it (history.pushState) as filters change. Paging is left out: an export is every
// matching row. Escape or a click elsewhere closes the menu; <details> itself makes it work with
// the keyboard (Enter/Space on the summary) and without this script (plain unfiltered links).

const FORMATS = [
  { format: "xlsx", path: "/inventory/export.xlsx", label: "Excel (.xlsx)" },
  { format: "csv", path: "/inventory/export.csv", label: "CSV (.csv)" },
];

/** Parameters of the grid's address that mean nothing to an export. */
const PAGING = ["page", "per_page"];

/** The export address for `path` carrying the filters and sort of `search` ("?a=b…"). */
export function exportHref(path, search) {
  const params = new URLSearchParams(search);
  for (const key of PAGING) params.delete(key);
  for (const [key, value] of [...params]) if (value === "") params.delete(key);
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** The menu's item for `format`, created (in FORMATS order) if the markup does not have it. */
function linkFor(menu, list, { format, label }) {
  let link = menu.querySelector(`a[data-export-format="${format}"]`);
  if (!link) {
    link = document.createElement("a");
    link.className = "dropdown__item";
    link.dataset.exportFormat = format;
    link.textContent = label;
    list.append(link);
  }
  return link;
}

/** Wires one menu element; safe to call twice. */
export function initExportMenu(menu) {
  if (menu.dataset.exportMenuReady === "true") return;
  menu.dataset.exportMenuReady = "true";
  const summary = menu.querySelector("summary");
  const list = menu.querySelector(".dropdown__menu") ?? menu;

  const refresh = () => {
    for (const item of FORMATS) linkFor(menu, list, item).href = exportHref(item.path, location.search);
  };
  const close = ({ focus = false } = {}) => {
    if (!menu.open) return;
    menu.open = false;
    if (focus) summary?.focus();
  };

  refresh();
  menu.addEventListener("toggle", () => {
    if (menu.open) refresh();
  });
  // A link is followed with the address as it is at that moment (pointer, Enter or a middle click).
  list.addEventListener("pointerdown", refresh);
  list.addEventListener("keydown", (event) => {
    if (event.key === "Enter") refresh();
  });
  list.addEventListener("click", (event) => {
    if (!event.target.closest("a[data-export-format]")) return;
    refresh();
    // The download starts; the page stays. Close the menu so it does not hang over the grid.
    setTimeout(() => close(), 0);
  });

  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menu.open) {
      event.preventDefault();
      close({ focus: true });
    }
  });
  document.addEventListener("pointerdown", (event) => {
    if (menu.open && !menu.contains(event.target)) close();
  });
  document.addEventListener("focusin", (event) => {
    if (menu.open && !menu.contains(event.target)) close();
  });
}

for (const menu of document.querySelectorAll("[data-export-menu]")) initExportMenu(menu);
