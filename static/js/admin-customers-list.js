// The customer list's filters: a change of status or page size applies at once (the form's
// Search button does the same without JavaScript). The search box waits for Enter or the button,
// so typing never reloads the page under the cursor.
const form = document.querySelector("[data-customer-filters]");
if (form) {
  for (const select of form.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => form.requestSubmit());
  }
  // An empty search box adds nothing to the address.
  form.addEventListener("submit", () => {
    const q = form.elements.namedItem("q");
    if (q && q.value.trim() === "") q.disabled = true;
  });
}
