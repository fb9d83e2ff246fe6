// The ERP customer picker of the customer form: a searchable multi-select over the checkbox list
// the server rendered (so the form works without JavaScript), with the chosen names as removable
// chips, and "All customers" exclusive of single names.
//
// Keyboard: type in the search box to narrow the list; Down moves into the list, Up/Down/Home/End
// move between the visible names, Space ticks one; Enter in the search box ticks the only match
// (it never submits the form); Escape clears the search. When the ERP could not be reached while
// the page was drawn, "Load the list again" asks GET /admin/erp-customers.

const picker = document.querySelector("[data-erp-picker]");
if (picker) start(picker);

/** Lower-case text without accents, so "muller" finds "Müller". */
function fold(text) {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLocaleLowerCase();
}

function start(root) {
  const all = root.querySelector("[data-erp-all]");
  const names = root.querySelector("[data-erp-names]");
  const list = root.querySelector("[data-erp-list]");
  const chosen = root.querySelector("[data-erp-chosen]");
  const chips = root.querySelector("[data-erp-chips]");
  const search = root.querySelector("[data-erp-search]");
  const filter = root.querySelector("[data-erp-filter]");
  const empty = root.querySelector("[data-erp-empty]");
  const status = root.querySelector("[data-erp-status]");
  const retry = root.querySelector("[data-erp-retry]");
  const down = root.querySelector("[data-erp-down]");
  const allNote = root.querySelector("[data-erp-all-note]");

  let options = [];
  function collect() {
    options = [...list.querySelectorAll("label.erp-picker__option")].map((label) => {
      const box = label.querySelector("input[type=checkbox]");
      return { label, box, key: fold(box.value) };
    });
  }
  collect();

  const visible = () => options.filter((o) => !o.label.hidden);

  function say(text) {
    // Cleared first so the same words are announced again.
    status.textContent = "";
    requestAnimationFrame(() => (status.textContent = text));
  }

  function applyFilter() {
    const needle = fold(filter.value.trim());
    let shown = 0;
    for (const o of options) {
      const match = !needle || o.key.includes(needle);
      o.label.hidden = !match;
      if (match) shown += 1;
    }
    empty.hidden = shown > 0 || options.length === 0;
    if (needle) say(shown === 0 ? `No ERP customer matches “${filter.value.trim()}”.` : `${shown} of ${options.length} ERP customers shown.`);
  }

  function renderChips() {
    const picked = options.filter((o) => o.box.checked);
    chips.replaceChildren();
    if (all.checked) {
      chosen.hidden = true;
      return;
    }
    for (const o of picked) {
      const item = document.createElement("li");
      item.className = "chip erp-picker__chip";
      const text = document.createElement("span");
      text.textContent = o.box.value;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "chip__remove";
      remove.setAttribute("aria-label", `Remove ${o.box.value}`);
      remove.textContent = "×";
      remove.addEventListener("click", () => {
        const next = item.nextElementSibling ?? item.previousElementSibling;
        o.box.checked = false;
        update();
        say(`${o.box.value} removed.`);
        const index = next ? [...chips.children].findIndex((li) => li.firstChild.textContent === next.firstChild.textContent) : -1;
        (index >= 0 ? chips.children[index].querySelector("button") : filter)?.focus();
      });
      item.append(text, remove);
      chips.append(item);
    }
    chosen.hidden = picked.length === 0;
  }

  function update() {
    // "All" covers everyone: single names are set aside (kept ticked, hidden, not sent) while it is on.
    names.disabled = all.checked;
    names.hidden = all.checked;
    allNote.hidden = !all.checked;
    root.classList.toggle("is-all", all.checked);
    renderChips();
  }

  function move(from, step) {
    const shown = visible();
    if (shown.length === 0) return;
    const index = shown.findIndex((o) => o.box === from);
    if (step === "first") return shown[0].box.focus();
    if (step === "last") return shown[shown.length - 1].box.focus();
    const next = index + step;
    if (next < 0) return filter.focus();
    shown[Math.min(next, shown.length - 1)].box.focus();
  }

  search.hidden = false;
  filter.addEventListener("input", applyFilter);
  filter.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      move(null, "first");
    } else if (event.key === "Enter") {
      event.preventDefault();
      const shown = visible();
      if (shown.length === 1) {
        shown[0].box.click();
        say(`${shown[0].box.value} ${shown[0].box.checked ? "chosen" : "removed"}.`);
      }
    } else if (event.key === "Escape" && filter.value) {
      event.preventDefault();
      filter.value = "";
      applyFilter();
    }
  });
  list.addEventListener("keydown", (event) => {
    const box = event.target.closest("input[type=checkbox]");
    if (!box) return;
    const steps = { ArrowDown: 1, ArrowUp: -1, Home: "first", End: "last" };
    if (!(event.key in steps)) return;
    event.preventDefault();
    move(box, steps[event.key]);
  });
  list.addEventListener("change", () => update());
  all.addEventListener("change", () => {
    update();
    say(all.checked ? "All customers chosen: this account sees every customer's stock." : "All customers no longer chosen.");
  });

  async function reload() {
    retry.disabled = true;
    say("Loading the ERP customers…");
    try {
      const response = await fetch("/admin/erp-customers", {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      const body = await response.json().catch(() => null);
      if (!response.ok || !Array.isArray(body?.customers)) {
        say(body?.error || "The list could not be loaded. Please try again later.");
        return;
      }
      const present = new Set(options.map((o) => o.box.value));
      let index = options.length;
      for (const name of body.customers) {
        if (present.has(name)) continue;
        const label = document.createElement("label");
        label.className = "checkbox erp-picker__option";
        const box = document.createElement("input");
        box.type = "checkbox";
        box.name = "erp_customer_name";
        box.value = name;
        box.id = `erp-name-${index}`;
        label.htmlFor = box.id;
        index += 1;
        const text = document.createElement("span");
        text.className = "erp-picker__name";
        text.textContent = name;
        label.append(box, text);
        list.insertBefore(label, empty);
      }
      collect();
      applyFilter();
      list.removeAttribute("data-erp-unavailable");
      if (down) down.hidden = true;
      say(`${body.customers.length} ERP customers loaded.`);
    } catch {
      say("The portal did not answer. Check your connection and try again.");
    } finally {
      retry.disabled = false;
    }
  }
  if (retry) {
    retry.hidden = false;
    retry.addEventListener("click", reload);
  }

  update();
}
