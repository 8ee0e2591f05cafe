// Every text a page shows comes from the translation files (locales/<page>/<language>.json, and
// locales/common/ for what both pages say), by key. A text may name values ("{name}"), and have
// plural forms chosen by the language's own rules ({"one": ..., "other": ...}). Dates and numbers
// follow the language's conventions; a date is shown in the office's time zone, labelled with it.
// Each page bundles only its own texts (the widget stays small).
import commonEn from "../locales/common/en.json";
import commonId from "../locales/common/id.json";

export const LANGUAGE_NAMES = { en: "English", id: "Bahasa Indonesia" };

/** A page's texts by language: its own over the common ones. */
export function texts(own) {
  return { en: { ...commonEn, ...own.en }, id: { ...commonId, ...own.id } };
}

/** The language to use: the one asked for if there are texts in it, else the browser's, else English. */
export function pickLanguage(asked, browser = (typeof navigator !== "undefined" && navigator.languages) || []) {
  for (const tag of [asked, ...browser]) {
    const base = String(tag || "").toLowerCase().split("-")[0];
    if (base in LANGUAGE_NAMES) return base;
  }
  return "en";
}

function fill(text, values) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/**
 * A translator for one language: t("key", {values}, fallback). A key missing in a language falls
 * back to English; a key missing in both gives ``fallback`` (for keys made from data: a code).
 */
export function translator(tables, language) {
  const en = tables.en;
  const table = tables[language] || en;
  const plurals = new Intl.PluralRules(language);
  const numbers = new Intl.NumberFormat(language);
  function t(key, values = {}, fallback = key) {
    let text = key in table ? table[key] : en[key];
    if (text === undefined) return fallback;
    if (typeof text === "object") {
      const form = typeof values.count === "number" ? plurals.select(values.count) : "other";
      text = text[form] ?? text.other;
    }
    const shown = {};
    for (const [name, value] of Object.entries(values)) shown[name] = typeof value === "number" ? numbers.format(value) : value;
    return fill(text, shown);
  }
  t.language = language;
  return t;
}

/** A moment (seconds since the epoch) as the language writes it, in ``timeZone``, with the zone named. */
export function formatMoment(at, language, timeZone, { date = true } = {}) {
  const options = { hour: "2-digit", minute: "2-digit", timeZoneName: "short" };
  if (date) Object.assign(options, { day: "numeric", month: "short", year: "numeric" });
  try {
    return new Intl.DateTimeFormat(language, { ...options, timeZone }).format(new Date(at * 1000));
  } catch {
    return new Intl.DateTimeFormat(language, options).format(new Date(at * 1000));  // an unknown zone: the browser's
  }
}

/** A span of seconds as the language says it: "3 min", "1 j 5 mnt". */
export function formatDuration(seconds, language) {
  const s = Math.max(0, Math.round(seconds));
  const unit = (value, name) => new Intl.NumberFormat(language, { style: "unit", unit: name, unitDisplay: "short" }).format(value);
  if (s < 60) return unit(s, "second");
  if (s < 3600) return unit(Math.round(s / 60), "minute");
  const h = Math.floor(s / 3600), m = Math.round((s % 3600) / 60);
  return m ? `${unit(h, "hour")} ${unit(m, "minute")}` : unit(h, "hour");
}
