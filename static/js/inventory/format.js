// Numbers, dates and status words as the grid shows them, in the reader's locale.

const countFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
// Quantities can be fractional (kilograms, litres); three decimals is what the ERP keeps.
const quantityFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });
// Dates in the ERP are calendar dates with no time of day. They are built and formatted in UTC so
// that a reader west of Greenwich does not see the day before.
const dateFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  timeZone: "UTC",
});
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** 15000 → "15,000" (or "15.000", "15 000", … by locale). */
export function formatCount(value) {
  return countFormat.format(value);
}

/** A stock quantity; text that is not a number is shown as it came. */
export function formatQuantity(value) {
  if (typeof value === "number" && Number.isFinite(value)) return quantityFormat.format(value);
  return value == null ? "" : String(value);
}

// A page shows at most a few hundred distinct dates; formatting each once keeps 1,000-row pages fast.
const dateCache = new Map();
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** "2026-11-24" → "Nov 24, 2026" (by locale). Anything else is shown as it came. */
export function formatDate(value) {
  if (value == null) return "";
  const text = String(value);
  let shown = dateCache.get(text);
  if (shown !== undefined) return shown;
  const match = DATE_ONLY.exec(text);
  shown = text;
  if (match) {
    const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
    if (!Number.isNaN(date.getTime())) shown = dateFormat.format(date);
  }
  if (dateCache.size > 5000) dateCache.clear();
  dateCache.set(text, shown);
  return shown;
}

/** An instant ("2026-11-24T10:00:00Z") in the reader's time zone, or "" when it is not one. */
export function formatDateTime(value) {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : dateTimeFormat.format(date);
}

/** The badge class of an ERP status word: "Pending QC" → "status-pending-qc" (styled in app.css). */
export function statusClass(word) {
  return `status-${String(word).trim().toLowerCase().replace(/\s+/g, "-")}`;
}

/** ["A", "B", "C"] → "A, B and C" in the reader's language. */
export function formatList(items) {
  try {
    return new Intl.ListFormat(undefined, { style: "long", type: "conjunction" }).format(items);
  } catch {
    return items.join(", ");
  }
}
