// Show/hide buttons for password fields: <button data-password-toggle="ID" hidden> next to
// <input id="ID" type="password">. The buttons stay hidden without JavaScript; the form works either way.
function setup(button) {
  if (button.dataset.passwordToggleReady) return; // loaded twice (e.g. listed by the page and the layout)
  button.dataset.passwordToggleReady = "1";
  const input = document.getElementById(button.dataset.passwordToggle);
  if (!input) return;
  const sync = () => {
    const shown = input.type === "text";
    button.textContent = shown ? "Hide" : "Show";
    button.setAttribute("aria-label", shown ? "Hide password" : "Show password");
  };
  button.addEventListener("click", () => {
    input.type = input.type === "password" ? "text" : "password";
    sync();
    input.focus();
  });
  // Never submit a password field as type=text (some browsers would then offer to remember it
  // as a plain field); put it back before the form is sent.
  input.form?.addEventListener("submit", () => {
    input.type = "password";
    sync();
  });
  sync();
  button.hidden = false;
}

for (const button of document.querySelectorAll("[data-password-toggle]")) setup(button);
