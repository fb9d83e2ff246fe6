// Shows every <time data-local datetime="…Z"> in the reader's own time zone and locale; the
// server's text (UTC) stays when JavaScript is off. data-local="date" shows the date only.
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

export function localiseTimes(root = document) {
  for (const el of root.querySelectorAll("time[data-local][datetime]")) {
    const when = new Date(el.getAttribute("datetime"));
    if (Number.isNaN(when.getTime())) continue;
    el.textContent = (el.dataset.local === "date" ? dateOnly : dateTime).format(when);
    el.title = when.toISOString().replace(".000Z", "Z");
  }
}

localiseTimes();
