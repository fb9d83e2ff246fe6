// The customer account page: confirmation dialogs for deactivation and password reset, the copy
// button of a set-password link shown once, and focus on the error summary of a refused form.
//
// Each dangerous action is a link to its own confirmation page (which works without JavaScript);
// here the link opens a <dialog> holding the same POST form instead. Cancel, Escape or a click
// outside closes it and gives focus back to the link.

for (const opener of document.querySelectorAll("[data-dialog-open]")) {
  const dialog = document.getElementById(opener.dataset.dialogOpen);
  if (!(dialog instanceof HTMLDialogElement) || typeof dialog.showModal !== "function") continue;
  opener.setAttribute("aria-haspopup", "dialog");
  opener.addEventListener("click", (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    dialog.showModal();
    // The harmless choice has the focus, so Enter right away does nothing dangerous.
    dialog.querySelector("[data-dialog-cancel]")?.focus();
  });
  dialog.addEventListener("close", () => opener.focus());
}

for (const dialog of document.querySelectorAll("dialog.dialog")) {
  for (const cancel of dialog.querySelectorAll("[data-dialog-cancel]")) {
    cancel.addEventListener("click", () => dialog.close());
  }
  // A click on the backdrop (outside the dialog's box) closes it, like Escape.
  dialog.addEventListener("click", (event) => {
    if (event.target !== dialog) return;
    const box = dialog.getBoundingClientRect();
    const inside = event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom;
    if (!inside) dialog.close();
  });
  // One submission only: a double click must not send two resets.
  dialog.querySelector("form")?.addEventListener("submit", (event) => {
    const button = event.submitter;
    if (button) queueMicrotask(() => (button.disabled = true));
  });
}

for (const button of document.querySelectorAll("[data-copy]")) {
  const source = document.getElementById(button.dataset.copy);
  const status = document.querySelector("[data-copy-status]");
  if (!source) continue;
  button.hidden = !navigator.clipboard;
  source.addEventListener("focus", () => source.select());
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(source.value);
      if (status) status.textContent = "Link copied. Paste it into a message only the customer can read.";
    } catch {
      source.focus();
      source.select();
      if (status) status.textContent = "Copying was refused by the browser: the link is selected, copy it with the keyboard.";
    }
  });
}

// A refused form: the summary of what to correct is read first and its links jump to the fields.
const summary = document.querySelector("[data-error-summary]");
if (summary) summary.focus();
