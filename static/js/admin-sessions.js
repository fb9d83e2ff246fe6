// The sessions page: "End session" asks first (the form's data-confirm names whose session), and a
// form is sent once even when the button is pressed twice. Without JavaScript the forms still work.
for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (event) => {
    if (form.dataset.sending) {
      event.preventDefault();
      return;
    }
    if (!window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    form.dataset.sending = "1";
    form.querySelector("button[type=submit]")?.setAttribute("aria-disabled", "true");
  });
}
