// Live feedback on the password rules (12–128 characters, not the email, both entries match).
// The server checks the same rules; this only tells the user early.
//
// Each <li data-rule> gets data-state="idle" (nothing to judge yet), "ok" or "bad"; the stylesheet
// draws a circle, a tick or a cross. The state is also written out in a visually hidden span, so a
// screen reader hears it through the input's aria-describedby and the list's aria-live region.
// The DOM is only touched when a state changes, so the live region does not chatter on every key.
const form = document.querySelector('[data-password-rules]');

if (form) {
  const password = form.querySelector('input[name="password"]');
  const confirm = form.querySelector('input[name="password_confirm"]');
  const email = (form.dataset.email || '').toLowerCase();
  const typed = (input) => input.value.length > 0;
  // judged(): is there something to judge yet; met(): is the rule met.
  const rules = {
    length: {
      judged: () => typed(password),
      met: () => { const n = [...password.value].length; return n >= 12 && n <= 128; },
    },
    email: {
      judged: () => typed(password),
      met: () => password.value.toLowerCase() !== email,
    },
    match: {
      // Not judged before anything is typed in the second field: a cross there would only nag.
      judged: () => typed(password) && typed(confirm),
      met: () => password.value === confirm.value,
    },
  };
  const words = { idle: '', ok: ': met', bad: ': not met yet' };

  const items = [];
  for (const [name, rule] of Object.entries(rules)) {
    const item = form.querySelector(`[data-rule="${name}"]`);
    if (!item) continue;
    const status = document.createElement('span');
    status.className = 'visually-hidden';
    item.append(status);
    items.push({ item, status, rule });
  }

  const update = () => {
    for (const { item, status, rule } of items) {
      const state = !rule.judged() ? 'idle' : rule.met() ? 'ok' : 'bad';
      if (item.dataset.state === state) continue;
      item.dataset.state = state;
      status.textContent = words[state];
    }
  };
  password.addEventListener('input', update);
  confirm.addEventListener('input', update);
  update();
}
