// Applies a remembered theme choice before the first paint (loaded as a classic, blocking script
// in <head>). With no choice, no attribute is set and CSS follows prefers-color-scheme.
(function () {
  try {
    var theme = localStorage.getItem("portal-theme");
    if (theme === "light" || theme === "dark") document.documentElement.setAttribute("data-theme", theme);
  } catch (e) {
    /* storage blocked: the system preference applies */
  }
})();
