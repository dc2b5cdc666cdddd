/* The one way the console's and the portal's pages speak (loaded before each page's script):
 * every word comes from the page's catalogue /static/i18n/<lang>.json through t(); money, dates,
 * numbers and percentages are formatted by Intl for the chosen language, which a switch changes
 * (kept in localStorage under the page's own key). Chinese first. */
"use strict";

const i18n = { langs: ["zh-CN", "en"], lang: "zh-CN", catalogue: {}, storageKey: "forbear.lang" };

// t("key", {name: value}): the catalogue's text with {name} filled in; a key missing from the
// catalogue is shown as itself and recorded on <html data-missing> (the browser tests read it)
function t(key, vars) {
  let text = i18n.catalogue[key];
  if (typeof text !== "string") {
    const root = document.documentElement;
    const missing = new Set((root.dataset.missing || "").split(" ").filter(Boolean));
    missing.add(key);
    root.dataset.missing = [...missing].join(" ");
    text = key;
  }
  return text.replace(/\{(\w+)\}/g, (whole, name) => (vars && name in vars ? String(vars[name]) : whole));
}
// t() of a code the services send (a status, a document type, a reason): "status.approved"
const term = (group, code) => t(`${group}.${code}`);
// whether the catalogue has words for a key (a service's reason code it may not know)
const hasWords = (key) => typeof i18n.catalogue[key] === "string";

// the language chosen before on this browser, else Chinese
function savedLanguage() {
  try { return localStorage.getItem(i18n.storageKey) || i18n.langs[0]; } catch (_) { return i18n.langs[0]; }
}
// load a catalogue and fill the page's data-i18n elements; its switches (select[data-lang-switch]) show it
async function loadLanguage(lang) {
  i18n.lang = i18n.langs.includes(lang) ? lang : i18n.langs[0];
  const response = await fetch(`/static/i18n/${i18n.lang}.json`, { credentials: "same-origin" });
  i18n.catalogue = await response.json();
  document.documentElement.lang = i18n.lang;
  try { localStorage.setItem(i18n.storageKey, i18n.lang); } catch (_) { /* private mode: the choice lasts the page */ }
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-aria-label]")) el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.setAttribute("placeholder", t(el.dataset.i18nPlaceholder));
  for (const el of document.querySelectorAll("[data-i18n-title]")) el.setAttribute("title", t(el.dataset.i18nTitle));
  for (const el of document.querySelectorAll("select[data-lang-switch]")) el.value = i18n.lang;
}

// -- formatting for the language (display only: sums are done in cents by the pages) ------------
const absent = (v) => v === null || v === undefined || v === "";
const formatMoney = (v, currency) => absent(v) ? t("common.none")
  : new Intl.NumberFormat(i18n.lang, { style: "currency", currency: currency || "CNY" }).format(String(v));
const formatDate = (iso) => absent(iso) ? t("common.none")
  : new Intl.DateTimeFormat(i18n.lang, { year: "numeric", month: "long", day: "numeric", timeZone: "UTC" })
    .format(new Date(`${String(iso).slice(0, 10)}T00:00:00Z`));
const formatShortDate = (iso) => absent(iso) ? t("common.none")
  : new Intl.DateTimeFormat(i18n.lang, { year: "numeric", month: "numeric", day: "numeric", timeZone: "UTC" })
    .format(new Date(`${String(iso).slice(0, 10)}T00:00:00Z`));
// a fraction ("0.1109") as a percentage with `digits` decimals (Intl rounds half away from zero)
const formatPercent = (fraction, digits) => absent(fraction) ? t("common.none")
  : new Intl.NumberFormat(i18n.lang, { style: "percent", minimumFractionDigits: digits, maximumFractionDigits: digits }).format(String(fraction));
const formatCount = (n) => absent(n) ? t("common.none") : new Intl.NumberFormat(i18n.lang).format(n);

// a sentence as data (forbear_shared.phrasing: a timeline line, a reason's detail): its catalogue
// key and its arguments, each written for the page's language: an amount, a date, a share, a code
// (or codes) of a catalogue group, an optional part with a key of its own
function phraseArg(v) {
  if (v === null || v === undefined) return t("common.none");
  if (typeof v !== "object") return String(v);
  if ("money" in v) return formatMoney(v.money, v.currency);
  if ("date" in v) return formatShortDate(v.date);
  // a share with the places it was given: "0.5" is 50%, a rate "0.0385" is 3.85% (at most two)
  if ("share" in v) return formatPercent(v.share, Math.min(Math.max((String(v.share).split(".")[1] || "").length - 2, 0), 2));
  const word = (group, code) => t(`${group}.${code}`);
  if ("code" in v) return word(v.code, v.value);
  if ("codes" in v) return v.values.length ? v.values.map((c) => word(v.codes, c)).join(t("common.list_separator")) + (v.more ? " …" : "") : t("common.none");
  if ("line" in v) return phraseText(v.line, v.args);
  return t("common.none");
}
function phraseText(key, args) {
  const vars = {};
  for (const [name, value] of Object.entries(args || {})) vars[name] = phraseArg(value);
  return t(key, vars);
}
