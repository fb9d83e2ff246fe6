// The light/dark theme toggle in the header. A choice is remembered in localStorage (read early by
// theme-init.js); with none, the theme follows the system's prefers-color-scheme, live.
const STORAGE_KEY = "portal-theme";
const root = document.documentElement;
const systemDark = window.matchMedia("(prefers-color-scheme: dark)");

function storedTheme() {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return value === "light" || value === "dark" ? value : null;
  } catch {
    return null;
  }
}

function storeTheme(theme) {
  try {
    localStorage.setItem(STORAGE_KEY, theme);
  } catch {
    /* storage blocked: the choice lasts for this page only */
  }
}

export function currentTheme() {
  const chosen = root.getAttribute("data-theme");
  if (chosen === "light" || chosen === "dark") return chosen;
  return systemDark.matches ? "dark" : "light";
}

export function setTheme(theme) {
  root.setAttribute("data-theme", theme);
  storeTheme(theme);
  syncButtons();
  document.dispatchEvent(new CustomEvent("portal:themechange", { detail: { theme } }));
}

function syncButtons() {
  const dark = currentTheme() === "dark";
  for (const button of document.querySelectorAll("[data-theme-toggle]")) {
    button.setAttribute("aria-pressed", String(dark));
    button.title = dark ? "Switch to light theme" : "Switch to dark theme";
  }
}

function init() {
  const stored = storedTheme();
  if (stored) root.setAttribute("data-theme", stored);
  for (const button of document.querySelectorAll("[data-theme-toggle]")) {
    button.addEventListener("click", () => setTheme(currentTheme() === "dark" ? "light" : "dark"));
    button.hidden = false;
  }
  syncButtons();
  // Follow the system while the person has not chosen; also keep other tabs in step.
  systemDark.addEventListener("change", () => {
    if (!storedTheme()) syncButtons();
  });
  window.addEventListener("storage", (event) => {
    if (event.key !== STORAGE_KEY) return;
    const theme = storedTheme();
    if (theme) root.setAttribute("data-theme", theme);
    else root.removeAttribute("data-theme");
    syncButtons();
  });
}

init();
