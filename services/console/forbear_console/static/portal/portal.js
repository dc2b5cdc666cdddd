/* Forbear borrower portal: vanilla JS, no dependencies, no build step. Everything goes through
 * this origin: /auth/* (login at the identity provider; the session is an HttpOnly cookie the
 * page never reads), /guidance (the lender's policy for the forms) and /api/<service>/<path>
 * (a proxy that adds the borrower's access token; the services show a borrower their own cases only).
 * Every word the borrower reads comes from the catalogues /static/i18n/<lang>.json through t();
 * money, dates and percentages are formatted by Intl for the chosen language. */
"use strict";

i18n.storageKey = "forbear.portal.lang";
const state = { session: null, guidance: null, timer: null };
const $ = (sel, root) => (root || document).querySelector(sel);

// t(), term(), loadLanguage() and the Intl formatters are /static/common/i18n.js's
const money = (v) => formatMoney(v, state.guidance && state.guidance.currency);
const date = formatDate;
const percent = (fraction) => formatPercent(fraction, 2);
const share = (fraction) => formatPercent(fraction, 0);
const count = formatCount;

// money as integer cents (BigInt): "1900.00" -> 190000n, never a float
function cents(value) {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(String(value || "0").trim());
  if (!m) return null;
  const c = BigInt(m[2]) * 100n + BigInt(((m[3] || "") + "00").slice(0, 2));
  return m[1] ? -c : c;
}
function fromCents(c) {
  const sign = c < 0n ? "-" : "";
  const a = c < 0n ? -c : c;
  return `${sign}${a / 100n}.${String(a % 100n).padStart(2, "0")}`;
}
// cents x a decimal fraction ("0.7"), rounded down to the cent
function timesShare(c, fraction) {
  const [whole, part = ""] = String(fraction).split(".");
  const scale = 10n ** BigInt(part.length);
  return (c * BigInt(whole + part)) / scale;
}

// h(tag, attrs, ...children) is /static/common/dom.js's
const pill = (group, code) => h(`span.pill.${String(code).replace(/[^a-z_]/gi, "_")}`, { dataset: { code } }, term(group, code));

// -- HTTP ---------------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, body) {
    super((body && body.reason) || `http_${status}`);
    this.status = status; this.reason = body && body.reason;
  }
}
const newKey = () => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`);
async function call(method, url, body, form) {
  // the header proves the request comes from this page (the portal refuses unsafe ones without it)
  const headers = { Accept: "application/json", "X-Requested-With": "forbear-portal" };
  const init = { method, headers, credentials: "same-origin" };
  if (form) init.body = form;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  if (method === "POST" && /\/(cases|evidence)$/.test(url)) headers["Idempotency-Key"] = newKey();
  const response = await fetch(url, init);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  if (response.status === 401 && url !== "/auth/session") { showLogin(); throw new ApiError(401, data); }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}
const api = (service, path, method = "GET", body) => call(method, `/api/${service}${path}`, body);
const enc = encodeURIComponent;
// a list answer, bare or in a page ({items}, {decisions}, {offers})
const items = (answer) => Array.isArray(answer) ? answer : (answer && (answer.items || answer.decisions || answer.offers)) || [];
async function maybe(service, path) {
  try { return await api(service, path); } catch (e) { if (e.status === 401) throw e; return null; }
}
// a refusal in the borrower's words: the service's reason code when the catalogue has it
function refusal(e) {
  const key = `error.${e.reason || e.message}`;
  return hasWords(key) ? t(key) : t("error.generic", { reason: e.reason || e.message });
}

function flash(message, bad) {
  const el = $("#flash");
  el.textContent = message; el.hidden = false; el.classList.toggle("bad", !!bad);
  clearTimeout(flash.timer); flash.timer = setTimeout(() => { el.hidden = true; }, 8000);
}

// -- session --------------------------------------------------------------------------------------
function showLogin() {
  state.session = null;
  $("#login-view").hidden = false; $("#main").hidden = true; $("#logout").hidden = true; $("#who").hidden = true;
}
async function boot() {
  await loadLanguage(savedLanguage());
  $("#lang-switch").addEventListener("change", async (e) => { await loadLanguage(e.target.value); if (state.session) route(); });
  $("#logout").addEventListener("click", async () => { try { await call("POST", "/auth/logout"); } finally { showLogin(); } });
  window.addEventListener("hashchange", () => state.session && route());
  try { state.session = await call("GET", "/auth/session"); } catch (_) { showLogin(); return; }
  state.guidance = await call("GET", "/guidance");
  $("#login-view").hidden = true; $("#main").hidden = false; $("#logout").hidden = false;
  const who = $("#who"); who.hidden = false; who.dataset.borrower = state.session.borrower_id || "";
  route();
}

function route() {
  clearTimeout(state.timer);
  const main = $("#main");
  const m = /^#\/case\/([^/]+)$/.exec(location.hash);
  const draw = m ? renderCase(main, decodeURIComponent(m[1])) : renderCases(main);
  return draw.catch((e) => { if (e.status !== 401) flash(refusal(e), true); });
}

// an action: run it, draw the page again, then say it went through (or why not): what the
// borrower sees with the message is the new state
const act = (done, fn) => async (event) => {
  if (event) event.preventDefault();
  const button = event && (event.submitter || event.currentTarget);
  if (button && button.disabled !== undefined) button.disabled = true;
  try { await fn(); await route(); flash(t(done)); }
  catch (e) { if (e.status !== 401) flash(refusal(e), true); if (button) button.disabled = false; }
};

// -- my requests and a new one --------------------------------------------------------------------
async function renderCases(main) {
  const cases = await api("intake", "/cases");
  const categories = Object.keys(state.guidance.required_documents);
  const required = h("ul.plain", { id: "open-required" });
  const category = h("select", { id: "open-category", required: true, onchange: () => showRequired() },
    h("option", { value: "" }, t("open.category_choose")),
    categories.map((c) => h("option", { value: c }, term("hardship", c))));
  function showRequired() {
    const docs = state.guidance.required_documents[category.value] || [];
    required.replaceChildren(...docs.map((d) => h("li", { dataset: { docType: d } }, term("document", d))));
  }
  const form = h("form.card", { id: "open-form", onsubmit: act("open.done", async () => {
    const opened = await api("intake", "/cases", "POST", {
      borrower: { borrower_id: state.session.borrower_id }, loan_ids: [$("#open-loan").value.trim()],
      hardship_category: category.value, story: $("#open-story").value.trim(), channel: "portal" });
    location.hash = `#/case/${enc(opened.case_id)}`;
  }) },
    h("h2", {}, t("open.title")),
    h("p.muted", {}, t("open.intro")),
    h("label", { for: "open-loan" }, t("open.loan")),
    h("input", { id: "open-loan", required: true, maxlength: 64, autocomplete: "off" }),
    h("p.muted", {}, t("open.loan_hint")),
    h("label", { for: "open-category" }, t("open.category")), category,
    h("p.muted", {}, t("open.required", { days: count(state.guidance.evidence_deadline_days) })), required,
    h("label", { for: "open-story" }, t("open.story")),
    h("textarea", { id: "open-story", maxlength: 10000, placeholder: t("open.story_placeholder") }),
    h("div.actions", {}, h("button", { type: "submit", id: "open-submit" }, t("open.submit"))));
  const list = cases.length ? h("ul.plain", { id: "my-cases" }, cases.map((c) => h("li", { dataset: { case: c.case_id } },
    h("a", { href: `#/case/${enc(c.case_id)}` }, t("cases.item", { category: term("hardship", c.hardship_category), date: date(c.opened_on) })),
    " ", pill("status", c.status))))
    : h("p.muted", { id: "my-cases" }, t("cases.none"));
  main.replaceChildren(h("div.grid", {}, h("section.card", {}, h("h2", {}, t("cases.title")), list), form));
}

// -- one request ------------------------------------------------------------------------------------
async function renderCase(main, caseId) {
  const cv = await api("intake", `/cases/${enc(caseId)}`);
  const [decisions, offers] = await Promise.all([
    maybe("evaluation", `/cases/${enc(caseId)}/decisions`), maybe("agreement", `/cases/${enc(caseId)}/offers`)]);
  const offerList = items(offers).slice().sort((a, b) => a.rank - b.rank);
  const withSchedules = await Promise.all(offerList.map((o) => o.schedule ? o : api("agreement", `/offers/${enc(o.offer_id)}`)));
  const agreementIds = [...new Set(offerList.map((o) => o.agreement_id).filter(Boolean))];
  const agreements = (await Promise.all(agreementIds.map((id) => maybe("agreement", `/agreements/${enc(id)}`)))).filter(Boolean);
  const current = agreements.find((a) => a.status === "active") || agreements.find((a) => a.status === "awaiting_signatures");
  const monitored = current && current.status === "active" ? await maybe("monitoring", `/agreements/${enc(current.agreement_id)}`) : null;
  const decisionList = items(decisions).slice()
    .sort((a, b) => String(a.decided_on).localeCompare(String(b.decided_on)));

  const head = h("section.card.wide", { id: "case-head", dataset: { status: cv.status } },
    h("h2", { id: "case-title" }, t("case.title", { category: term("hardship", cv.hardship_category) })),
    h("p", {}, pill("status", cv.status), " ", h("span.muted", {}, t("case.opened", { date: date(cv.opened_on), id: cv.case_id }))),
    h("p.muted", {}, t(`status_help.${cv.status}`)),
    h("div.actions", {}, h("a", { href: "#/cases" }, t("case.back")),
      h("button.secondary", { id: "refresh", type: "button", onclick: () => route() }, t("case.refresh"))),
    // every record of the request as one archive, with a manifest of SHA-256 hashes (keep it)
    h("p", {}, h("a", { id: "case-file", href: `/case-file/${enc(cv.case_id)}`, download: "" }, t("case.file")),
      " ", h("span.muted", {}, t("case.file_help"))));
  // the policy of the case's arm (a live challenger may ask another share of disposable income)
  const caseGuidance = await call("GET", `/guidance?case_id=${enc(cv.case_id)}`);
  const cards = [head, evidenceCard(cv), statementCard(cv, caseGuidance), decisionsCard(decisionList),
    offersCard(withSchedules), agreementCard(current), scheduleCard(monitored)].filter(Boolean);
  main.replaceChildren(h("div.grid", {}, cards));
  // the services move on by themselves (evaluation, offers, the lender's signature, monitoring):
  // while the borrower only waits, look again every few seconds
  const waiting = cv.status === "under_evaluation" || (cv.status === "approved" && !offerList.length)
    || (current && current.status === "awaiting_signatures" && current.awaiting_signature_of === "lender")
    || (current && current.status === "active" && !monitored);
  if (waiting) state.timer = setTimeout(route, 4000);
}

function evidenceCard(cv) {
  const ev = cv.evidence || {};
  const docs = cv.documents || [];
  const open = ["awaiting_evidence", "evidence_to_review", "ready_to_submit"].includes(cv.status);
  const rows = (ev.required || []).map((type) => {
    const mine = docs.filter((d) => d.document_type === type);
    const accepted = (ev.accepted || []).includes(type);
    const pending = (ev.pending || []).includes(type);
    const rejected = mine.filter((d) => d.status === "rejected");
    const status = accepted ? "accepted" : pending ? "pending" : rejected.length ? "rejected" : "missing";
    // a rejection is said until another document of the type is accepted
    return h("li", { dataset: { docType: type, status } }, h("b", {}, term("document", type)), " ", pill("evidence", status),
      accepted ? null : rejected.map((d) => h("p.error", { dataset: { rejected: d.document_id } }, t("evidence.rejected_because", { reason: d.rejection_reason || "" }))));
  });
  const uploadable = (ev.required || []).filter((type) => !(ev.accepted || []).includes(type));
  // the browser's own file button speaks the browser's language: a label in the borrower's
  // language opens it (the camera or the files on a phone), and the chosen name shows beside it
  const chosen = h("span.muted", { id: "upload-chosen" }, t("evidence.upload_none"));
  const file = h("input.visually-hidden", { id: "upload-file", type: "file", required: true, accept: "application/pdf,image/jpeg,image/png",
    onchange: () => chosen.replaceChildren(file.files.length ? file.files[0].name : t("evidence.upload_none")) });
  const type = h("select", { id: "upload-type", required: true }, uploadable.map((d) => h("option", { value: d }, term("document", d))));
  const upload = open && uploadable.length ? h("form", { id: "upload-form", onsubmit: act("evidence.uploaded", async () => {
    const form = new FormData();
    form.append("document_type", type.value);
    form.append("file", file.files[0]);
    await call("POST", `/api/intake/cases/${enc(cv.case_id)}/evidence`, undefined, form);
  }) },
    h("label", { for: "upload-type" }, t("evidence.upload_type")), type,
    h("div.actions", {}, h("label.file-button", { for: "upload-file" }, t("evidence.upload_file")), file, chosen),
    h("p.muted", {}, t("evidence.upload_hint")),
    h("div.actions", {}, h("button", { type: "submit", id: "upload-submit" }, t("evidence.upload")))) : null;
  const submit = open ? h("div.actions", {}, h("button", { id: "submit-case", disabled: cv.status !== "ready_to_submit" ? true : null,
    onclick: act("case.submitted", () => api("intake", `/cases/${enc(cv.case_id)}/submit`, "POST")) }, t("case.submit")),
    h("p.muted", {}, cv.status === "ready_to_submit" ? t("case.submit_ready") : t("case.submit_wait"))) : null;
  return h("section.card", { id: "evidence" }, h("h3", {}, t("evidence.title")),
    h("p", { id: "evidence-deadline" }, t("evidence.deadline", { date: date(cv.evidence_deadline) })),
    h("ul.plain", {}, rows), upload, submit);
}

// the income and expenditure statement, with the policy's guidance worked out as the borrower types
const LINE_CATEGORIES = {
  income: ["salary", "spouse_salary", "unemployment_benefit", "casual_work", "pension", "business_income", "other_income"],
  essential_expenditure: ["rent", "food", "food_household", "utilities", "childcare", "transport", "medical", "education",
    "other_expenditure"],
  other_debt_payments: ["credit_card", "other_loan"],
};
function statementCard(cv, g) {
  const editable = ["awaiting_evidence", "evidence_to_review", "ready_to_submit"].includes(cv.status);
  const given = cv.statement || {};
  const guidance = h("p.guidance", { id: "statement-guidance" });
  const groups = {};
  function line(group, category, amount) {
    const row = h("div.line", { dataset: { group } },
      h("select", { "aria-label": t("statement.category"), disabled: editable ? null : true },
        LINE_CATEGORIES[group].map((c) => h("option", { value: c, selected: c === category ? true : null }, term("line", c))),
        // a line an agent recorded under a category of their own keeps it, named as it was given
        LINE_CATEGORIES[group].includes(category) ? null
          : h("option", { value: category, selected: true }, t("statement.other_category", { code: category }))),
      h("input", { inputmode: "decimal", pattern: "[0-9]+(\\.[0-9]{1,2})?", placeholder: t("statement.amount"),
        "aria-label": t("statement.amount"), value: amount || null, disabled: editable ? null : true, oninput: () => work() }));
    groups[group].append(row);
  }
  const sections = Object.keys(LINE_CATEGORIES).map((group) => {
    groups[group] = h("div.lines", { id: `lines-${group}` });
    const lines = given[group] || [];
    if (lines.length) for (const l of lines) line(group, l.category, l.monthly_amount);
    else line(group, LINE_CATEGORIES[group][0], "");
    return h("div", {}, h("label", {}, t(`statement.${group}`)), groups[group],
      editable ? h("button.secondary", { type: "button", dataset: { addLine: group }, onclick: () => line(group, LINE_CATEGORIES[group][0], "") }, t("statement.add_line")) : null);
  });
  const linesOf = (group) => [...groups[group].querySelectorAll(".line")].map((row) => ({
    category: row.querySelector("select").value, monthly_amount: row.querySelector("input").value.trim() }))
    .filter((l) => l.monthly_amount !== "");
  const sum = (group) => linesOf(group).reduce((total, l) => total + (cents(l.monthly_amount) || 0n), 0n);
  function work() {
    // disposable = income - essential spending - other debts; the policy lets the new instalment
    // take at most its affordable share of that (rounded down to the cent)
    const disposable = sum("income") - sum("essential_expenditure") - sum("other_debt_payments");
    const affordable = disposable > 0n ? timesShare(disposable, g.affordable_share_of_disposable_income) : 0n;
    guidance.replaceChildren(t("statement.guidance", { disposable: money(fromCents(disposable)),
      share: share(g.affordable_share_of_disposable_income), affordable: money(fromCents(affordable)) }));
    guidance.dataset.affordable = fromCents(affordable);
  }
  const dependants = h("input", { id: "statement-dependants", type: "number", min: 0, max: 30, value: given.dependants ?? 0, disabled: editable ? null : true });
  const gross = h("input", { id: "statement-gross", inputmode: "decimal", value: given.gross_monthly_income || null, disabled: editable ? null : true });
  const form = h("form", { id: "statement-form", onsubmit: act("statement.saved", () => api("intake", `/cases/${enc(cv.case_id)}/statement`, "PUT", {
    income: linesOf("income"), essential_expenditure: linesOf("essential_expenditure"), other_debt_payments: linesOf("other_debt_payments"),
    dependants: Number(dependants.value || 0), gross_monthly_income: gross.value.trim() || null })) },
    h("p.muted", {}, t("statement.intro", { ceiling: share(g.dti_ceiling) })), sections,
    h("label", { for: "statement-dependants" }, t("statement.dependants")), dependants,
    h("label", { for: "statement-gross" }, t("statement.gross")), gross,
    guidance,
    editable ? h("div.actions", {}, h("button", { type: "submit", id: "statement-save" }, t("statement.save"))) : null);
  const card = h("section.card", { id: "statement", dataset: { recorded: cv.statement ? "yes" : "no" } }, h("h3", {}, t("statement.title")),
    cv.statement ? h("p.muted", {}, t("statement.recorded")) : null, form);
  work();
  return card;
}

function decisionsCard(list) {
  if (!list.length) return null;
  return h("section.card", { id: "decisions" }, h("h3", {}, t("decision.title")),
    h("ul.plain", {}, list.map((d) => h("li", { dataset: { decision: d.decision_id, outcome: d.outcome } },
      h("p", {}, pill("outcome", d.outcome), " ", h("span.muted", {}, date(d.decided_on))),
      h("p", {}, t(`outcome_help.${d.outcome}`)),
      // each reason in plain words: what it is, and its facts as evaluation phrased them
      h("ul", {}, d.reasons.map((r) => h("li", { dataset: { reason: r.code } }, h("b", {}, term("reason", r.code)),
        r.phrase ? h("span.reason-detail", {}, phraseText(r.phrase.key, r.phrase.args)) : null))),
      rightsList(d.rights)))));
}
// the borrower's rights on a decision or a notice, in the lender's words for this language
function rightsList(rights) {
  const texts = (rights && rights[i18n.lang]) || [];
  return texts.length ? h("ul.rights", {}, texts.map((text) => h("li", {}, text))) : null;
}

// the offers side by side: one column each, the same rows for all
function totalPayable(o) {
  const instalments = (o.schedule && o.schedule.instalments) || [];
  return instalments.length ? fromCents(instalments.reduce((sum, i) => sum + cents(i.total), 0n)) : null;
}
function offersCard(offers) {
  if (!offers.length) return null;
  const open = offers.filter((o) => o.status === "open");
  const row = (label, cls, value) => h("tr", {}, h("th", { scope: "row" }, t(label)),
    offers.map((o) => h(`td.${cls}`, { dataset: { offer: o.offer_id } }, value(o))));
  const chosen = h("select", { id: "counter-offer" }, open.map((o) => h("option", { value: o.offer_id }, term("option", o.option))));
  const counter = open.length ? h("form", { id: "counter-form", onsubmit: act("offer.countered", () => {
    const body = {};
    const instalment = $("#counter-instalment").value.trim(), months = $("#counter-term").value.trim();
    if (instalment) body.proposed_instalment = instalment;
    if (months) body.proposed_term_months = Number(months);
    return api("agreement", `/offers/${enc(chosen.value)}/counter`, "POST", body);
  }) },
    h("h3", {}, t("offer.counter_title")), h("p.muted", {}, t("offer.counter_intro")),
    h("label", { for: "counter-offer" }, t("offer.counter_which")), chosen,
    h("label", { for: "counter-instalment" }, t("offer.counter_instalment")),
    h("input", { id: "counter-instalment", inputmode: "decimal", pattern: "[0-9]+(\\.[0-9]{1,2})?" }),
    h("label", { for: "counter-term" }, t("offer.counter_term")),
    h("input", { id: "counter-term", type: "number", min: 1, max: 480 }),
    h("div.actions", {}, h("button.secondary", { type: "submit", id: "counter-submit" }, t("offer.counter_submit")))) : null;
  return h("section.card.wide", { id: "offers" }, h("h3", {}, t("offer.title")),
    h("p.muted", {}, t("offer.intro", { days: count(state.guidance.offer_validity_days) })),
    h("div.scroll", {}, h("table.compare", { id: "offer-compare" },
      h("thead", {}, h("tr", {}, h("th", {}), offers.map((o) => h("th", { scope: "col", dataset: { offer: o.offer_id } }, term("option", o.option))))),
      h("tbody", {},
        row("offer.status", "status", (o) => pill("offer_status", o.status)),
        row("offer.old_instalment", "old-instalment", (o) => money(o.old_instalment)),
        row("offer.new_instalment", "new-instalment", (o) => money(o.new_instalment)),
        row("offer.term", "term", (o) => t("offer.months", { n: count(o.term_months) })),
        row("offer.total_payable", "total-payable", (o) => money(totalPayable(o))),
        row("offer.apr", "apr", (o) => percent(o.apr)),
        row("offer.waived", "waived", (o) => money(o.waived_amount || "0.00")),
        row("offer.capitalised", "capitalised", (o) => money(o.capitalised_arrears || "0.00")),
        row("offer.expires", "expires", (o) => date(o.expires_on)),
        row("offer.choose", "choose", (o) => o.status === "open" ? h("button", { dataset: { acceptOffer: o.offer_id },
          onclick: act("offer.accepted", () => api("agreement", `/offers/${enc(o.offer_id)}/accept`, "POST", {})) }, t("offer.accept")) : t("common.none"))))),
    counter);
}

function agreementCard(a) {
  if (!a) return null;
  const signed = new Set((a.signatures || []).map((s) => s.party));
  const code = h("input", { id: "signing-code", inputmode: "numeric", pattern: "[0-9]{6}", maxlength: 6, autocomplete: "one-time-code",
    "aria-label": t("sign.code") });
  const sendCode = async (event) => {
    event.preventDefault();
    try {
      await api("agreement", `/agreements/${enc(a.agreement_id)}/signing-code`, "POST", { channel: "sms" });
      flash(t("sign.code_sent")); code.focus();
    } catch (e) { if (e.status !== 401) flash(refusal(e), true); }
  };
  const sign = act("sign.done", async () => {
    const doc = await api("agreement", `/agreements/${enc(a.agreement_id)}/document`);
    await api("agreement", `/agreements/${enc(a.agreement_id)}/signatures`, "POST",
      { party: "borrower", document_sha256: doc.document_sha256, one_time_code: code.value.trim() });
  });
  return h("section.card.wide", { id: "agreement", dataset: { agreement: a.agreement_id, status: a.status } },
    h("h3", {}, t("sign.title")), h("p", {}, pill("agreement_status", a.status), " ", term("option", a.option)),
    h("p", {}, h("a", { href: `/api/agreement/agreements/${enc(a.agreement_id)}/document.pdf`, target: "_blank", rel: "noopener" }, t("sign.read"))),
    a.status === "awaiting_signatures" && !signed.has("borrower") ? h("form", { id: "sign-form", onsubmit: sign },
      h("p.muted", {}, t("sign.intro")),
      h("div.actions", {}, h("button.secondary", { type: "button", id: "send-code", onclick: sendCode }, t("sign.send_code"))),
      h("label", { for: "signing-code" }, t("sign.code")),
      h("div.code-row", {}, code, h("button", { type: "submit", id: "sign" }, t("sign.submit")))) : null,
    signed.has("borrower") ? h("p", { id: "borrower-signed" }, t("sign.borrower_signed")) : null,
    a.status === "awaiting_signatures" && signed.has("borrower") ? h("p.muted", { id: "awaiting-lender" }, t("sign.awaiting_lender")) : null,
    a.status === "active" ? h("p", { id: "agreement-active" }, t("sign.active", { date: date(a.activated_on) })) : null);
}

function scheduleCard(m) {
  if (!m) return null;
  const schedule = m.schedule || [];
  const next = schedule.find((i) => !/^paid/.test(i.status || ""));
  const notices = m.notices || [];
  const latest = notices.length ? notices[notices.length - 1] : null;
  return h("section.card.wide", { id: "schedule", dataset: { level: m.level } }, h("h3", {}, t("schedule.title")),
    next ? h("p.next-due", { id: "next-due" }, t("schedule.next", { date: date(next.due_date), amount: money(next.total) }))
      : h("p", { id: "next-due" }, t("schedule.all_paid")),
    m.remedy_deadline ? h("div.notice", { id: "remedy" }, t("schedule.remedy", {
      amount: money(latest ? latest.amount_overdue : m.arrears.total), date: date(m.remedy_deadline) })) : null,
    notices.length ? h("div", { id: "notices" }, h("h3", {}, t("schedule.notices")), notices.map((n) => h("div.notice", { dataset: { level: n.level } },
      h("b", {}, term("level", n.level)), " ", date(n.on), " · ",
      t("schedule.notice_line", { amount: money(n.amount_overdue), dpd: count(n.days_past_due) }),
      n.remedy_deadline ? [" · ", t("schedule.notice_remedy", { date: date(n.remedy_deadline) })] : null,
      rightsList(n.rights)))) : null,
    h("div.scroll", {}, h("table", { id: "instalments" },
      h("thead", {}, h("tr", {}, h("th", {}, t("schedule.number")), h("th", {}, t("schedule.due")), h("th.num", {}, t("schedule.total")),
        h("th.num", {}, t("schedule.paid")), h("th", {}, t("schedule.status")))),
      h("tbody", {}, schedule.map((i) => h("tr", { dataset: { instalment: i.number } },
        h("td", {}, count(i.number)), h("td", {}, date(i.due_date)), h("td.num", {}, money(i.total)),
        h("td.num", {}, money(i.paid)), h("td", {}, pill("instalment", i.status))))))),
    h("h3", {}, t("schedule.payments")),
    (m.payments || []).length ? h("ul.plain", { id: "payments" }, m.payments.map((p) => h("li", {}, t("schedule.payment_line", {
      amount: money(p.amount), date: date(p.received_on) })))) : h("p.muted", { id: "payments" }, t("schedule.no_payments")));
}

boot();
