/* Forbear console: vanilla JS, no dependencies. Everything goes through this origin:
 * /auth/* (login at the identity provider, the session in an HttpOnly cookie the page never reads),
 * /kpis and /readmodel/* (queues, case timelines and KPIs from the console's read model, in SQL)
 * and /api/<service>/<path> (a proxy that adds the session's access token, for actions and case details).
 * Personal data is shown as the APIs give it, masked once more here: the page never unmasks.
 * Every word the operator reads comes from the catalogues /static/i18n/<lang>.json through t()
 * (zh-CN first, a switch for en); money, dates and numbers are formatted by Intl for the language
 * (t(), term() and the formatters are /static/common/i18n.js's). */
"use strict";

i18n.storageKey = "forbear.console.lang";
const state = { session: 0, user: null, role: null };
// what an operator is typing in a form, by field (kept across the page's re-renders, which
// follow every action and may land mid-typing; dropped once the form's action succeeds)
const drafts = new Map();
function drafted(key, input, initial) {
  input.value = drafts.has(key) ? drafts.get(key) : (initial || "");
  const keep = () => drafts.set(key, input.value);
  input.addEventListener("input", keep);
  input.addEventListener("change", keep);
  return input;
}
const dropDrafts = (prefix) => { for (const key of [...drafts.keys()]) if (key.startsWith(prefix)) drafts.delete(key); };
const $ = (sel, root) => (root || document).querySelector(sel);

// h(tag, attrs, ...children) is /static/common/dom.js's
const svgNS = "http://www.w3.org/2000/svg";
function s(tag, attrs, ...children) {
  const el = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined) continue;
    if (k === "style") el.style.cssText = v;
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined)
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

// -- personal data: shown masked, whatever the role ------------------------------------------
function maskDigits(value, keepStart, keepEnd) {
  if (!value) return value;
  const text = String(value);
  if (text.includes("*")) return text;               // the API masked it already
  if (text.length <= keepStart + keepEnd) return "*".repeat(text.length);
  return text.slice(0, keepStart) + "*".repeat(text.length - keepStart - keepEnd) + text.slice(text.length - keepEnd);
}
const maskNationalId = (v) => maskDigits(v, 4, 4);
const maskPhone = (v) => maskDigits(v, 3, 4);
function maskName(v) {
  if (!v) return v;
  const text = String(v);
  return text.includes("*") ? text : text.slice(0, 1) + "*".repeat(Math.max(text.length - 1, 1));
}

// -- HTTP -------------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.detail && typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail))) || `HTTP ${status}`);
    this.status = status; this.reason = body && body.reason;
  }
}
async function call(method, url, body) {
  // the header proves the request comes from this page (the console refuses unsafe ones without it)
  const headers = { Accept: "application/json", "X-Requested-With": "forbear-console" };
  const session = state.session;
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) { headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  if (method === "POST" && url.startsWith("/api/") && body !== undefined && /\/(contacts|payments)$/.test(url))
    headers["Idempotency-Key"] = crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();
  const response = await fetch(url, init);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = { detail: text }; }
  // a 401 ends the session only if it answers the current session: a late answer to a request
  // of an earlier session (or of none) must not log out the operator who signed in since
  if (response.status === 401 && url !== "/auth/session") {
    if (session && session === state.session) showLogin(t("login.ended"));
    throw new ApiError(401, data);
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}
const api = (service, path, method = "GET", body) => call(method, `/api/${service}${path}`, body);
const items = (answer) => Array.isArray(answer) ? answer : (answer && (answer.items || answer.reviews || answer.appeals || answer.agreements || answer.referrals || answer.offers || answer.decisions)) || [];
async function tryApi(service, path) {
  try { return { ok: true, data: await api(service, path) }; }
  catch (e) { return { ok: false, error: e }; }
}

function flash(message, bad) {
  const el = $("#flash");
  el.textContent = message; el.hidden = false; el.classList.toggle("bad", !!bad);
  clearTimeout(flash.timer); flash.timer = setTimeout(() => { el.hidden = true; }, 6000);
}

// -- formatting for the language (/static/common/i18n.js's Intl formatters) -----------------------
const money = (v, cur) => formatMoney(v, cur || "CNY");
const date = formatDate;
// a date in a table's cell: the short numeric form of the language (2026/1/9, 1/9/2026), where
// sentences say it whole (2026年1月9日, January 9, 2026)
const day = formatShortDate;
const pct = (v) => formatPercent(v, 1);
const none = () => t("common.none");
// a code the services send, as a coloured pill in the language's words: pill("status", "approved")
const pill = (group, code) => code ? h(`span.pill.${String(code).replace(/[^a-z_]/gi, "_")}`, { dataset: { code } }, term(group, code)) : none();
const caseLink = (id) => id ? h("a", { href: `#/case/${encodeURIComponent(id)}`, title: id }, id) : none();
// what an action failed on, in the operator's words: the service's reason code when the catalogue has it
const failure = (e) => e.reason && hasWords(`error.${e.reason}`) ? t(`error.${e.reason}`)
  : e.status ? t("error.http", { status: e.status, detail: e.message }) : e.message;

function table(columns, rows, opts = {}) {
  if (!rows.length) return h("p.empty", {}, opts.empty || t("common.nothing"));
  return h("table", {},
    h("colgroup", {}, columns.map((c) => h("col", { style: c.width ? `width:${c.width}` : null }))),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { class: c.num ? "num" : null }, c.label)))),
    h("tbody", {}, rows.map((r) => h("tr", { class: opts.rowClass ? opts.rowClass(r) : null, dataset: opts.rowData ? opts.rowData(r) : null },
      columns.map((c) => { const v = c.value(r); return h("td", { class: [c.num ? "num" : "", c.wrap ? "wrap" : ""].join(" ").trim() || null, title: typeof v === "string" ? v : null }, v); })))));
}

// -- login ----------------------------------------------------------------------------------------
function showLogin(message) {
  Object.assign(state, { session: 0, user: null, role: null });
  $("#app").hidden = true; $("#login-view").hidden = false;
  $("#login-error").textContent = message || "";
  $("#login-submit").focus();
}
async function logout() {
  try { await call("POST", "/auth/logout"); } catch (_) { /* the cookie is gone either way */ }
  showLogin();
}
function start() {
  $("#login-view").hidden = true; $("#app").hidden = false;
  $("#who-name").textContent = state.user; $("#who-role").textContent = term("role", state.role);
  $("#cob-button").hidden = state.role !== "supervisor";
  if (!location.hash || location.hash === "#/login") history.replaceState(null, "", "#/queues");
  refreshBusinessDate(); route();
}
async function refreshBusinessDate() {
  const r = await tryApi("monitoring", "/business-date");
  const shown = $("#business-date");
  shown.textContent = r.ok ? date(r.data.business_date) : t("bizdate.unknown");
  shown.dataset.date = r.ok ? r.data.business_date : "";
}

// -- routing --------------------------------------------------------------------------------------
async function route() {
  if (!state.session) return showLogin();
  const hash = location.hash || "#/queues";
  const main = $("#main");
  const [, view, arg] = hash.split("/");
  document.querySelectorAll("[data-nav]").forEach((a) => a.classList.toggle("active", a.dataset.nav === view));
  main.replaceChildren(h("p.muted", {}, t("common.loading")));
  main.dataset.view = view;
  try {
    if (view === "case" && arg) await renderCase(main, decodeURIComponent(arg));
    else if (view === "kpis") await renderKpis(main);
    else if (view === "policies") await renderPolicies(main);
    else await renderQueues(main);
  } catch (e) {
    main.replaceChildren(h("div.card", {}, h("h3", {}, t("page.failed")), h("p.error", {}, failure(e))));
  }
}

// -- work queues ----------------------------------------------------------------------------------
// every queue is one SQL query on the console's read model (/readmodel/queues/<id>), never a service's list;
// a function, so that its words are the language's of the moment
const caseColumn = () => ({ label: t("col.case"), value: (c) => caseLink(c.case_id), width: "165px" });
const hardshipColumn = () => ({ label: t("col.hardship"), value: (c) => term("hardship", c.hardship_category) });
const QUEUES = () => [
  { id: "awaiting-evidence",
    columns: [caseColumn(), hardshipColumn(),
      { label: t("col.deadline"), value: (c) => day(c.evidence_deadline) },
      { label: t("col.dpd"), value: (c) => formatCount(c.dpd_at_first_contact), num: true, width: "52px" }] },
  { id: "evidence-to-review",
    columns: [caseColumn(), hardshipColumn(),
      { label: t("col.opened"), value: (c) => day(c.opened_on) },
      { label: t("col.channel"), value: (c) => term("channel", c.channel) }] },
  { id: "ready-to-submit",
    columns: [caseColumn(), hardshipColumn(), { label: t("col.opened"), value: (c) => day(c.opened_on) }] },
  { id: "supervisor-review",
    columns: [caseColumn(), hardshipColumn(), { label: t("col.since"), value: (r) => day(r.since) }] },
  { id: "appeals-to-review",
    columns: [caseColumn(),
      { label: t("col.appeal"), value: (a) => a.appeal_id },
      { label: t("col.by"), value: (a) => term("party", a.lodged_by) },
      { label: t("col.lodged"), value: (a) => day(a.since) }] },
  { id: "offers-open",
    columns: [caseColumn(),
      { label: t("col.option"), value: (o) => t("offer.ranked", { rank: o.rank, option: term("option", o.option) }) },
      { label: t("col.instalment"), value: (o) => money(o.new_instalment), num: true },
      { label: t("col.expires"), value: (o) => day(o.expires_on) }] },
  { id: "awaiting-signature",
    columns: [caseColumn(),
      { label: t("col.agreement"), value: (a) => a.agreement_id },
      { label: t("col.waiting_for"), value: (a) => a.awaiting_signature_of && a.awaiting_signature_of !== "—" ? term("party", a.awaiting_signature_of) : none() },
      { label: t("col.accepted"), value: (a) => day(a.accepted_on) }] },
  { id: "active-agreements",
    columns: [caseColumn(),
      { label: t("col.agreement"), value: (a) => a.agreement_id },
      { label: t("col.option"), value: (a) => term("option", a.option) },
      { label: t("col.active_since"), value: (a) => day(a.activated_on) }] },
  { id: "near-breach",
    columns: [caseColumn(),
      { label: t("col.number"), value: (w) => formatCount(w.instalment), num: true, width: "40px" },
      { label: t("col.due"), value: (w) => day(w.due_date) },
      { label: t("col.paid_by_checkpoint"), value: (w) => t("common.of", { part: money(w.amount_paid), whole: money(w.amount_due) }), num: true },
      { label: t("col.checkpoint"), value: (w) => day(w.checkpoint) }] },
  { id: "at-risk", atRisk: true,
    columns: [caseColumn(),
      { label: t("col.level"), value: (a) => pill("level", a.level) },
      { label: t("col.since"), value: (a) => day(a.level_since) },
      { label: t("col.remedy_by"), value: (a) => day(a.remedy_deadline) },
      { label: t("col.referral_held"), value: (a) => a.referral_blocked_since ? t("common.since", { date: day(a.referral_blocked_since) }) : none() }] },
  { id: "legal-referrals",
    columns: [caseColumn(),
      { label: t("col.agreement"), value: (r) => r.agreement_id },
      { label: t("col.route"), value: (r) => term("route", r.referral_route) },
      { label: t("col.referred"), value: (r) => day(r.referred_on) }] },
];
const LEVEL_ORDER = ["legal_referral", "breach_notice", "warning", "reminder"];

function lagLine(lag) {
  // the newest event the read model projected, and how long after it occurred it was projected
  if (!lag || !lag.last_event_id) return h("p.muted.lag", { id: "read-model-lag" }, t("lag.none"));
  return h("p.muted.lag", { id: "read-model-lag", title: t("lag.title", { at: lag.last_projected_at, events: formatCount(lag.events_projected) }) },
    t("lag.line", { type: lag.last_event_type, id: String(lag.last_event_id).slice(0, 8), behind: Number(lag.behind_seconds).toFixed(1),
      idle: Number(lag.idle_seconds).toFixed(0) }));
}

async function renderQueues(main) {
  const queues = QUEUES();
  const [results, lag] = await Promise.all([Promise.all(queues.map(async (q) => {
    try { return { ok: true, data: await call("GET", `/readmodel/queues/${q.id}?limit=200`) }; }
    catch (e) { return { ok: false, error: e }; }
  })), call("GET", "/readmodel/lag").catch(() => null)]);
  const cards = queues.map((q, i) => {
    const r = results[i];
    const rows = r.ok ? items(r.data) : [];
    const total = r.ok ? (r.data.total !== undefined ? r.data.total : rows.length) : null;
    let body;
    if (!r.ok) body = h("p.error", {}, t("error.read_model", { detail: failure(r.error) }));
    else if (q.atRisk) {
      const byLevel = LEVEL_ORDER.map((lvl) => [lvl, (r.data.by_level || {})[lvl] || 0]).filter(([, n]) => n);
      body = h("div", {}, byLevel.length ? h("p.actions", {}, byLevel.map(([lvl, n]) => h("span", {}, pill("level", lvl), " ", formatCount(n)))) : null,
        h("div.scroll", {}, table(q.columns, rows, { empty: t("queues.at_risk_empty") })));
    } else body = h("div.scroll", {}, table(q.columns, rows));
    return h("section.card", { id: `queue-${q.id}`, dataset: { queue: q.id } },
      h("header", {}, h("h3", {}, term("queue", q.id)), h("span.count", {}, r.ok ? String(total) : "!")), body);
  });
  main.replaceChildren(h("h2", {}, t("queues.title")), lagLine(lag), h("div.grid", {}, cards));
}

// -- case page ------------------------------------------------------------------------------------
async function renderCase(main, caseId) {
  const caseView = await api("intake", `/cases/${encodeURIComponent(caseId)}`);
  const [decisions, offers, reviews, readModel, appeals] = await Promise.all([
    tryApi("evaluation", `/cases/${encodeURIComponent(caseId)}/decisions`),
    tryApi("agreement", `/cases/${encodeURIComponent(caseId)}/offers`),
    tryApi("evaluation", `/reviews?status=open&case_id=${encodeURIComponent(caseId)}`),
    call("GET", `/readmodel/cases/${encodeURIComponent(caseId)}`).then((data) => ({ ok: true, data }), (error) => ({ ok: false, error })),
    tryApi("evaluation", `/cases/${encodeURIComponent(caseId)}/appeals`),
  ]);
  const offerList = offers.ok ? items(offers.data) : [];
  const agreementIds = [...new Set(offerList.map((o) => o.agreement_id).filter(Boolean))];
  const agreements = (await Promise.all(agreementIds.map((id) => tryApi("agreement", `/agreements/${encodeURIComponent(id)}`))))
    .filter((r) => r.ok).map((r) => r.data);
  const active = agreements.find((a) => a.status === "active") || agreements.find((a) => a.status === "superseded");
  const [monitored, promises] = active ? await Promise.all([
    tryApi("monitoring", `/agreements/${encodeURIComponent(active.agreement_id)}`),
    tryApi("monitoring", `/agreements/${encodeURIComponent(active.agreement_id)}/promises`)]) : [null, null];
  const myReviews = reviews.ok ? items(reviews.data).filter((r) => r.case_id === caseId) : [];
  const ctx = { caseId, caseView, decisions: decisions.ok ? items(decisions.data) : [], decisionsError: decisions.ok ? null : decisions.error,
    offers: offerList, offersError: offers.ok ? null : offers.error, agreements,
    monitored: monitored && monitored.ok ? monitored.data : null, monitoredError: monitored && !monitored.ok ? monitored.error : null,
    promises: promises && promises.ok ? items(promises.data) : [],
    reviews: myReviews, appeals: appeals.ok ? items(appeals.data) : [], readModel: readModel.ok ? readModel.data : null, readModelError: readModel.ok ? null : readModel.error };
  const reload = () => renderCase(main, caseId).catch((e) => flash(failure(e), true));
  // an action: `done` is the catalogue's key of what the flash says once it went through
  const act = (done, fn, vars) => async (event) => {
    if (event) event.preventDefault();
    const button = event && (event.submitter || event.currentTarget);
    if (button && button.disabled !== undefined) button.disabled = true;
    // the page is drawn again before the flash confirms: what the operator sees next is the new state
    try { await fn(); await reload(); flash(t(done, vars)); }
    catch (e) { flash(t("action.failed", { action: t(done, vars), detail: failure(e) }), true); if (button) button.disabled = false; }
  };

  const b = caseView.borrower || {};
  const head = h("div.case-head", {},
    h("h2", { id: "case-title" }, t("case.title", { id: caseId })), pill("status", caseView.status),
    h("span.muted", {}, t("case.facts", { hardship: term("hardship", caseView.hardship_category), channel: term("channel", caseView.channel),
      dpd: formatCount(caseView.dpd_at_first_contact), opened: date(caseView.opened_on) })),
    h("span.muted", {}, t("case.borrower", { id: b.borrower_id || caseView.borrower_id, name: maskName(b.name) || none(),
      national_id: maskNationalId(b.national_id) || none(), phone: maskPhone(b.phone) || none() })),
    // the whole record for a court or for the borrower's copy: one ZIP, every file hashed in its manifest
    h("a", { id: "case-file", href: `/case-file/${encodeURIComponent(caseId)}`, download: "" }, t("case.file")));

  const left = h("div.stack", {},
    evidenceCard(ctx, act), decisionsCard(ctx, act), offersCard(ctx, act), agreementCard(ctx, act), scheduleCard(ctx, act), promisesCard(ctx, act));
  const right = h("div.stack", {}, timelineCard(ctx), contactsCard(ctx, act), representativesCard(ctx, act), factsCard(ctx));
  main.replaceChildren(head, h("div.case-grid", {}, left, right));
}

function evidenceCard(ctx, act) {
  const cv = ctx.caseView, ev = cv.evidence || {};
  const docs = cv.documents || [];
  const canSubmit = ["ready_to_submit", "awaiting_evidence", "evidence_to_review"].includes(cv.status);
  const rows = docs.map((d) => {
    const reasonInput = h("input", { placeholder: t("evidence.reject_reason"), "aria-label": t("evidence.reject_reason_label"), "data-reason": d.document_id });
    const document = term("document", d.document_type);
    const review = d.status === "pending" ? h("div.actions", {},
      h("button", { "data-accept": d.document_id, onclick: act("evidence.accepted", () =>
        api("intake", `/cases/${encodeURIComponent(ctx.caseId)}/evidence/${encodeURIComponent(d.document_id)}/review`, "POST", { outcome: "accept" }), { document }) },
        t("evidence.accept")),
      reasonInput,
      h("button.danger", { "data-reject": d.document_id, onclick: act("evidence.rejected", () => {
        if (!reasonInput.value.trim()) throw new Error(t("evidence.reason_needed"));
        return api("intake", `/cases/${encodeURIComponent(ctx.caseId)}/evidence/${encodeURIComponent(d.document_id)}/review`, "POST", { outcome: "reject", reason: reasonInput.value.trim() });
      }, { document }) }, t("evidence.reject")))
      : h("span.muted", {}, [d.rejection_reason, d.reviewed_by ? t("common.by", { who: d.reviewed_by }) : null, d.reviewed_on ? date(d.reviewed_on) : null].filter(Boolean).join(" · "));
    return { d, review };
  });
  return h("section.card", { id: "evidence" },
    h("header", {}, h("h3", {}, t("evidence.title")), h("span.muted", {}, t("evidence.deadline", { date: date(cv.evidence_deadline) })),
      h("span.count", {}, ev.complete ? t("evidence.complete") : t("evidence.accepted_count", { accepted: (ev.accepted || []).length, required: (ev.required || []).length }))),
    ev.missing && ev.missing.length ? h("p.muted", {}, t("evidence.missing", { documents: ev.missing.map((m) => term("document", m)).join(t("common.list_separator")) })) : null,
    table([
      { label: t("col.document"), value: (r) => term("document", r.d.document_type), width: "24%" },
      { label: t("col.status"), value: (r) => pill("doc_status", r.d.status), width: "12%" },
      { label: t("col.uploaded"), value: (r) => day(r.d.uploaded_on), width: "14%" },
      { label: t("col.review"), value: (r) => r.review, wrap: true }], rows, { empty: t("evidence.none") }),
    canSubmit ? h("div.actions", { style: "margin-top:8px" },
      h("button", { id: "submit-case", disabled: cv.status !== "ready_to_submit" ? true : null,
        onclick: act("case.submitted", () => api("intake", `/cases/${encodeURIComponent(ctx.caseId)}/submit`, "POST")) }, t("case.submit")),
      h("span.muted", {}, cv.status === "ready_to_submit" ? t("case.submit_ready") : t("case.submit_wait"))) : null);
}

function reasonsList(reasons) {
  // a reason's detail in the page's language when evaluation phrased it, else as it was written
  const detail = (r) => r.phrase ? phraseText(r.phrase.key, r.phrase.args) : r.detail;
  return reasons && reasons.length ? h("ul.reasons", {}, reasons.map((r) => h("li", { dataset: { reason: r.code || r } },
    h("b", {}, term("reason", r.code || r)), detail(r) ? t("common.detail", { detail: detail(r) }) : ""))) : null;
}
// the borrower's rights on a decision, in the lender's words for this language
function rightsList(rights) {
  const texts = (rights && rights[i18n.lang]) || [];
  return texts.length ? h("ul.reasons.rights", {}, texts.map((text) => h("li", {}, text))) : null;
}

function decisionsCard(ctx, act) {
  const list = ctx.decisions.slice().sort((a, b) => String(a.decided_on).localeCompare(String(b.decided_on)));
  const reviewForms = ctx.reviews.map((r) => {
    const reason = h("textarea", { rows: 2, cols: 40, placeholder: t("review.reason"), "aria-label": t("review.reason_label"), id: `review-reason-${r.review_id}` });
    const decide = (outcome) => act("review.decided", () => {
      if (!reason.value.trim()) throw new Error(t("review.reason_needed"));
      return api("evaluation", `/reviews/${encodeURIComponent(r.review_id)}/decide`, "POST", { outcome, reason: reason.value.trim() });
    }, { outcome: term("outcome", outcome) });
    return h("div.offer", { dataset: { review: r.review_id } }, h("b", {}, t("review.open")), reasonsList(r.reasons),
      state.role === "supervisor" ? h("form.inline", { onsubmit: (e) => e.preventDefault() }, reason,
        h("button", { type: "button", onclick: decide("approve") }, t("review.approve")),
        h("button.danger", { type: "button", onclick: decide("decline") }, t("review.decline")))
        : h("p.muted", {}, t("review.supervisor_decides")));
  });
  return h("section.card", { id: "decisions" }, h("header", {}, h("h3", {}, t("decision.title")), h("span.count", {}, String(list.length))),
    ctx.decisionsError ? h("p.error", {}, t("error.service", { service: "evaluation", detail: failure(ctx.decisionsError) })) : null,
    list.length ? list.map((d) => h("div.offer", { dataset: { decision: d.decision_id, outcome: d.outcome } },
      h("div", {}, pill("outcome", d.outcome), " ", h("span.muted", {}, [date(d.decided_on),
        t("decision.by", { who: d.decided_by ? term("decided_by", d.decided_by) : term("decided_by", "rules") }),
        t("decision.policy", { version: d.policy_version || none() }),
        d.submission ? t("decision.submission", { n: d.submission }) : null].filter(Boolean).join(" · "))),
      d.override_reason ? h("p", {}, h("b", {}, t("decision.supervisor_reason")), " ", d.override_reason) : null,
      d.appeal_deadline ? h("p.muted", { dataset: { appealDeadline: d.decision_id } }, t("decision.appeal_until", { date: date(d.appeal_deadline) })) : null,
      reasonsList(d.reasons), rightsList(d.rights))) : h("p.empty", {}, t("decision.none")),
    reviewForms, ctx.appeals.map((a) => appealForm(a, act)));
}

function appealForm(a, act) {
  // an appeal of a decline: a supervisor other than the one who decided upholds or overturns it
  const reason = h("textarea", { rows: 2, cols: 40, placeholder: t("review.reason"), "aria-label": t("appeal.reason_label"), id: `appeal-reason-${a.appeal_id}` });
  const decide = (outcome) => () => {
    if (!reason.value.trim()) throw new Error(t("appeal.reason_needed"));
    return api("evaluation", `/appeals/${encodeURIComponent(a.appeal_id)}/decide`, "POST", { outcome, reason: reason.value.trim() });
  };
  const evidence = (a.evidence || []).map((e) => h("li", {}, h("b", {}, term("document", e.document_type)), t("common.detail", { detail: e.description })));
  const by = a.representative_id ? t("appeal.by_representative", { id: a.representative_id }) : term("party", a.lodged_by);
  return h("div.offer", { dataset: { appeal: a.appeal_id } },
    h("div", {}, h("b", {}, t("appeal.title")), " ", pill("appeal_status", a.status), " ",
      h("span.muted", {}, [t("appeal.lodged", { date: date(a.lodged_on), by }), t("appeal.window", { date: date(a.deadline) }),
        a.decision_decided_by_subject ? t("appeal.decline_by", { who: a.decision_decided_by_subject }) : t("appeal.decline_by_rules")].join(" · "))),
    a.statement ? h("p", {}, h("b", {}, t("appeal.grounds")), " ", a.statement) : null,
    evidence.length ? h("ul.reasons", {}, evidence) : null,
    a.status !== "pending" ? h("p.muted", {}, t("appeal.decided", { status: term("appeal_status", a.status), date: date(a.decided_on),
      by: a.decided_by_subject ? t("common.by", { who: a.decided_by_subject }) : "", reason: a.decision_reason || "" }))
      : state.role === "supervisor" ? h("form.inline", { onsubmit: (e) => e.preventDefault() }, reason,
        h("button", { type: "button", "data-uphold": a.appeal_id, onclick: act("appeal.upheld", decide("uphold")) }, t("appeal.uphold")),
        h("button.danger", { type: "button", "data-overturn": a.appeal_id, onclick: act("appeal.overturned", decide("overturn")) }, t("appeal.overturn")))
      : h("p.muted", {}, t("appeal.second_supervisor")));
}

function offersCard(ctx, act) {
  const offers = ctx.offers.slice().sort((a, b) => (a.rank || 0) - (b.rank || 0));
  return h("section.card", { id: "offers" }, h("header", {}, h("h3", {}, t("offer.title")), h("span.count", {}, String(offers.length))),
    ctx.offersError ? h("p.error", {}, t("error.service", { service: "agreement", detail: failure(ctx.offersError) })) : null,
    offers.length ? offers.map((o) => h("div.offer", { dataset: { offer: o.offer_id } },
      h("div", {}, h("b", {}, t("offer.ranked", { rank: o.rank, option: term("option", o.option) })), " ", pill("offer_status", o.status), " ",
        h("span.muted", {}, t("offer.expires", { date: date(o.expires_on) }))),
      h("div.terms", {},
        h("span", {}, t("offer.instalment", { old: money(o.old_instalment) }), h("b", {}, money(o.new_instalment, o.currency))),
        h("span", {}, t("offer.months", { n: formatCount(o.term_months) })), h("span", {}, t("offer.rate", { rate: o.annual_rate })),
        // the annualised cost a borrower must be shown (年化利率, IRR method), beside the nominal rate
        o.apr ? h("span.apr", { title: t("offer.apr_title") }, t("offer.apr", { rate: formatPercent(o.apr, 2) })) : null,
        o.waived_amount ? h("span", {}, t("offer.waived", { amount: money(o.waived_amount) })) : null,
        o.capitalised_arrears ? h("span", {}, t("offer.capitalised", { amount: money(o.capitalised_arrears) })) : null),
      // the offer's terms in the page's language where evaluation phrased them, else as written
      (o.summary_phrases || []).length ? h("p.muted.offer-summary", {}, o.summary_phrases.map((p) => phraseText(p.key, p.args)).join(t("common.list_separator")))
        : o.summary ? h("p.muted", {}, o.summary) : null,
      o.status === "open" && state.role !== "agent" ? h("p.muted", {}, t("offer.agent_accepts")) : null,
      o.status === "open" && state.role === "agent" ? h("div.actions", {}, h("button", { "data-accept-offer": o.offer_id,
        onclick: act("offer.accepted", () => api("agreement", `/offers/${encodeURIComponent(o.offer_id)}/accept`, "POST", {})) },
        t("offer.accept"))) : null)) : h("p.empty", {}, t("offer.none")));
}

function agreementCard(ctx, act) {
  if (!ctx.agreements.length) return null;
  return ctx.agreements.map((a) => {
    const docBox = h("div");
    // the borrower's signature needs the one-time code sent to the borrower's phone: the agent has it
    // sent, the borrower reads it out, the agent types it (the console never sees the code otherwise)
    const codeInput = h("input", { id: "borrower-code", inputmode: "numeric", pattern: "[0-9]{6}", maxlength: "6",
      autocomplete: "one-time-code", placeholder: t("sign.code_placeholder"), "aria-label": t("sign.code_label") });
    // what the agent typed survives the page's re-render (after any action) until it is used
    drafted(`code:${a.agreement_id}`, codeInput);
    // sending a code changes nothing on the page: no re-render, so the agent types straight away
    const sendCode = async (event) => {
      if (event) event.preventDefault();
      try {
        await api("agreement", `/agreements/${encodeURIComponent(a.agreement_id)}/signing-code`, "POST", { channel: "sms" });
        flash(t("sign.code_sent"));
        codeInput.focus();
      } catch (e) { flash(t("action.failed", { action: t("sign.send_code"), detail: failure(e) }), true); }
    };
    const signAs = (party) => async () => {
      const doc = await api("agreement", `/agreements/${encodeURIComponent(a.agreement_id)}/document`);
      const body = { party, document_sha256: doc.document_sha256 };
      if (party === "borrower") body.one_time_code = codeInput.value.trim();
      const answer = await api("agreement", `/agreements/${encodeURIComponent(a.agreement_id)}/signatures`, "POST", body);
      dropDrafts(`code:${a.agreement_id}`);
      return answer;
    };
    const sign = (party) => party === "lender" ? act("sign.done_lender", signAs(party)) : act("sign.done_borrower", signAs(party));
    const signed = new Set((a.signatures || []).map((x) => x.party));
    const signature = (x) => {
      const vars = { party: term("party", x.party), who: x.signed_by, role: term("role", x.signed_role), date: date(x.signed_on) };
      return (x.on_behalf_of_borrower ? t("sign.signature_on_behalf", vars) : t("sign.signature", vars))
        + (x.otp_verified ? t("sign.code_verified", { channel: term("channel", x.channel) }) : "");
    };
    return h("section.card", { id: "agreement", dataset: { agreement: a.agreement_id } },
      h("header", {}, h("h3", {}, t("agreement.title")), pill("agreement_status", a.status), h("span.count", {}, a.agreement_id)),
      h("dl.facts", {},
        h("dt", {}, t("agreement.option")), h("dd", {}, term("option", a.option)),
        h("dt", {}, t("agreement.sha256")), h("dd", {}, h("code", {}, a.document_sha256)),
        h("dt", {}, t("agreement.accepted")), h("dd", {}, date(a.accepted_on)),
        h("dt", {}, t("agreement.activated")), h("dd", {}, date(a.activated_on)),
        h("dt", {}, t("agreement.payment_method")), h("dd", {}, a.payment_method ? term("payment_method", a.payment_method) : none()),
        h("dt", {}, t("agreement.signatures")), h("dd", {}, (a.signatures || []).length
          ? (a.signatures || []).map((x) => h("div", { dataset: { party: x.party } }, signature(x))) : t("agreement.no_signature"))),
      a.status === "awaiting_signatures" ? h("div.actions", { style: "margin-top:8px" },
        state.role === "agent" && !signed.has("borrower") ? h("button.secondary", { id: "send-code", onclick: sendCode }, t("sign.send_code")) : null,
        state.role === "agent" && !signed.has("borrower") ? codeInput : null,
        state.role === "agent" ? h("button", { id: "sign-borrower", disabled: signed.has("borrower") ? true : null, onclick: sign("borrower") }, t("sign.borrower")) : null,
        state.role === "supervisor" ? h("button", { id: "sign-lender", disabled: !signed.has("borrower") || signed.has("lender") ? true : null, onclick: sign("lender") }, t("sign.lender")) : null,
        h("span.muted", {}, signed.has("borrower") ? t("sign.awaiting_lender") : t("sign.order"))) : null,
      h("div.actions", { style: "margin-top:8px" }, h("button.secondary", { onclick: async () => {
        try { const doc = await api("agreement", `/agreements/${encodeURIComponent(a.agreement_id)}/document`); docBox.replaceChildren(h("pre.document", {}, doc.rendered_text)); }
        catch (e) { flash(failure(e), true); } } }, t("agreement.show_document"))), docBox);
  });
}

function monitoredInstalments(m) {
  if (!m) return null;
  if (Array.isArray(m.schedule)) return m.schedule;
  return m.instalments || (m.schedule && m.schedule.instalments) || null;
}

function scheduleCard(ctx, act) {
  const active = ctx.agreements.find((a) => a.status === "active");
  if (!active) return null;
  const m = ctx.monitored;
  const instalments = monitoredInstalments(m) || ((active.schedule && active.schedule.instalments) || []);
  const statusOf = (i) => i.status || (i.settled_on ? "paid" : "upcoming");
  const payment = h("form.inline", { id: "payment-form", onsubmit: act("payment.recorded", () => api("monitoring",
    `/agreements/${encodeURIComponent(active.agreement_id)}/payments`, "POST", { reference: $("#payment-reference").value.trim(), amount: $("#payment-amount").value.trim() })) },
    h("input", { id: "payment-reference", placeholder: t("payment.reference"), required: true, "aria-label": t("payment.reference") }),
    h("input", { id: "payment-amount", placeholder: t("payment.amount"), required: true, inputmode: "decimal", pattern: "[0-9]+(\\.[0-9]{1,2})?", "aria-label": t("payment.amount") }),
    h("button", { type: "submit" }, t("payment.record")));
  return h("section.card", { id: "schedule", dataset: { monitored: m ? m.status : "none" } },
    h("header", {}, h("h3", {}, t("schedule.title")), m ? pill("level", m.level) : null,
      m && (m.near_breach || []).length ? h("span", { id: "near-breach-flag" }, pill("early_warning", "near_breach")) : null,
      h("span.count", {}, m ? t("schedule.dpd", { dpd: formatCount(m.days_past_due ?? m.dpd ?? 0) }) : "")),
    ctx.monitoredError ? h("p.error", {}, t("error.service", { service: "monitoring", detail: failure(ctx.monitoredError) })) : null,
    m ? h("p.muted", {}, [m.arrears ? t("schedule.arrears", { amount: money(m.arrears.total) }) : null,
      m.missed_instalments_outstanding ? t("schedule.missed_outstanding", { n: formatCount(m.missed_instalments_outstanding) }) : null,
      m.outstanding_balance !== undefined ? t("schedule.outstanding", { amount: money(m.outstanding_balance) }) : null,
      m.remedy_deadline ? t("schedule.remedy_by", { date: date(m.remedy_deadline) }) : null,
      m.status ? t("schedule.monitoring", { status: term("monitoring_status", m.status) }) : null].filter(Boolean).join(" · ")) : null,
    m && (m.near_breach || []).length ? h("p.warn", { id: "near-breach" }, (m.near_breach || []).map((w) => t("schedule.near_breach", {
      number: w.instalment, due: date(w.due_date), paid: money(w.amount_paid), due_amount: money(w.amount_due), checkpoint: date(w.checkpoint),
      share: formatPercent(w.required_share, 0) })).join(" ")) : null,
    h("div.scroll", {}, table([
      { label: t("col.number"), value: (i) => formatCount(i.number), num: true, width: "40px" },
      { label: t("col.due"), value: (i) => day(i.due_date) },
      { label: t("col.total"), value: (i) => money(i.total), num: true },
      { label: t("col.paid"), value: (i) => i.paid !== undefined ? money(i.paid) : (i.amount_paid !== undefined ? money(i.amount_paid) : none()), num: true },
      { label: t("col.status"), value: (i) => pill("instalment", statusOf(i)) },
      { label: t("col.settled"), value: (i) => day(i.settled_on) },
      { label: t("col.missed_detected"), value: (i) => day(i.missed_detected_on) },
      { label: t("col.early_warning"), value: (i) => i.early_warning ? pill("early_warning", i.early_warning) : none() }], instalments,
      { rowClass: (i) => statusOf(i) === "missed" ? "missed" : (/^paid/.test(statusOf(i)) ? "paid" : null),
        rowData: (i) => ({ instalment: i.number, due: i.due_date, total: i.total }) })),
    m && m.status === "active" ? (state.role === "agent" ? payment : h("p.muted", {}, t("payment.agents_record"))) : null,
    m && (m.payments || []).length ? h("div", {}, h("h3", { style: "margin-top:10px" }, t("payment.title")), table([
      { label: t("col.reference"), value: (p) => p.reference }, { label: t("col.amount"), value: (p) => money(p.amount), num: true },
      { label: t("col.received"), value: (p) => day(p.received_on) }, { label: t("col.source"), value: (p) => term("payment_source", p.source) }], m.payments)) : null,
    m && m.referral ? h("div.offer", {}, h("b", {}, t("schedule.referral")), " ", pill("route", m.referral.route), " ",
      t("common.on", { date: date(m.referral.referred_on) }), reasonsList(m.referral.reasons)) : null);
}

// the borrower's promises to pay on the active agreement (monitoring judges each at the close of
// business past its date: kept when the payments since it was made reach its amount, else broken)
function promisesCard(ctx, act) {
  const active = ctx.agreements.find((a) => a.status === "active");
  if (!active || !ctx.monitored) return null;
  const list = ctx.promises;
  const draft = `promise:${active.agreement_id}:`;
  const field = (name, el, initial) => drafted(draft + name, el, initial);
  const form = state.role === "agent" && ctx.monitored.status === "active" ? h("form.inline", { id: "promise-form", onsubmit: act("promise.recorded", async () => {
      const answer = await api("monitoring", `/agreements/${encodeURIComponent(active.agreement_id)}/promises`, "POST", {
        amount: $("#promise-amount").value.trim(), due_date: $("#promise-date").value, channel: $("#promise-channel").value });
      dropDrafts(draft);
      return answer;
    }) },
    field("amount", h("input", { id: "promise-amount", placeholder: t("promise.amount"), required: true, inputmode: "decimal",
      pattern: "[0-9]+(\\.[0-9]{1,2})?", "aria-label": t("promise.amount") })),
    field("date", h("input", { id: "promise-date", type: "date", required: true, "aria-label": t("promise.due") })),
    field("channel", h("select", { id: "promise-channel", "aria-label": t("promise.channel") },
      ["phone", "branch", "email", "portal"].map((c) => h("option", { value: c }, term("channel", c)))), "phone"),
    h("button", { type: "submit" }, t("promise.record"))) : null;
  return h("section.card", { id: "promises" }, h("header", {}, h("h3", {}, t("promise.title")), h("span.count", {}, String(list.length))),
    h("div.scroll", {}, table([
      { label: t("promise.amount"), value: (p) => money(p.amount, p.currency), num: true },
      { label: t("promise.due"), value: (p) => day(p.due_date) },
      { label: t("promise.made"), value: (p) => t("promise.made_by", { date: date(p.made_on), channel: term("channel", p.channel), who: p.recorded_by }), wrap: true },
      { label: t("col.status"), value: (p) => pill("promise_status", p.status) },
      { label: t("promise.judged"), value: (p) => p.judged_on ? t("promise.judged_line", { paid: money(p.paid, p.currency), date: date(p.judged_on) }) : none(), wrap: true }],
      list, { empty: t("promise.none"), rowData: (p) => ({ promise: p.promise_id, status: p.status }) })),
    form);
}

// the borrower's authorised representatives (intake's case view; names come masked but for supervisors);
// while one communicates for the borrower, staff log their contacts through it here
const CHANNELS = ["phone", "email", "branch", "portal"];
function representativesCard(ctx, act) {
  const reps = ctx.caseView.representatives || [];
  if (!reps.length) return null;
  const through = reps.filter((r) => r.communicates);
  const form = through.length ? h("form.inline", { id: "representative-contact-form", onsubmit: act("contact.recorded", () =>
      api("intake", `/cases/${encodeURIComponent(ctx.caseId)}/contacts`, "POST", {
        party: "representative", representative_id: $("#representative-contact-id").value,
        channel: $("#representative-contact-channel").value, local_time: $("#representative-contact-time").value })) },
    h("select", { id: "representative-contact-id", "aria-label": t("contact.representative") },
      through.map((r) => h("option", { value: r.representative_id }, t("contact.representative_option", { id: r.representative_id, kind: term("representative_kind", r.kind) })))),
    h("select", { id: "representative-contact-channel", "aria-label": t("contact.channel") }, CHANNELS.map((c) => h("option", { value: c }, term("channel", c)))),
    h("input", { id: "representative-contact-time", type: "time", required: true, "aria-label": t("contact.local_time") }),
    h("button", { type: "submit" }, t("contact.through_representative"))) : null;
  return h("section.card", { id: "representatives" }, h("header", {}, h("h3", {}, t("representative.title")), h("span.count", {}, String(reps.length))),
    h("div.scroll", {}, table([
      { label: t("col.id"), value: (r) => r.representative_id },
      { label: t("col.kind"), value: (r) => term("representative_kind", r.kind) }, { label: t("col.name"), value: (r) => maskName(r.name) || none() },
      { label: t("col.scope"), value: (r) => r.scopes.map((x) => term("scope", x)).join(t("common.list_separator")), wrap: true },
      { label: t("col.valid"), value: (r) => t("common.range", { from: day(r.starts_on), to: day(r.ends_on) }) },
      { label: t("col.status"), value: (r) => pill("representative_status", r.revoked_on ? "revoked" : (r.active ? "active" : "inactive")) }], reps)),
    form);
}

function contactsCard(ctx, act) {
  const contacts = ctx.caseView.contacts || [];
  const now = new Date();
  const draft = `contact:${ctx.caseId}:`;
  const field = (name, el, initial) => drafted(draft + name, el, initial);
  const options = (codes, group) => codes.map((c) => h("option", { value: c }, term(group, c)));
  const form = h("form.inline", { id: "contact-form", onsubmit: act("contact.recorded", async () => {
      const answer = await api("intake", `/cases/${encodeURIComponent(ctx.caseId)}/contacts`, "POST", {
        party: $("#contact-party").value, channel: $("#contact-channel").value, direction: $("#contact-direction").value,
        local_time: $("#contact-time").value, note: $("#contact-note").value.trim() || null });
      dropDrafts(draft);
      return answer;
    }) },
    field("party", h("select", { id: "contact-party", "aria-label": t("contact.party") }, options(["borrower", "guarantor"], "party")), "borrower"),
    field("channel", h("select", { id: "contact-channel", "aria-label": t("contact.channel") }, options(CHANNELS, "channel")), "phone"),
    field("direction", h("select", { id: "contact-direction", "aria-label": t("contact.direction") }, options(["outbound", "inbound"], "direction")), "outbound"),
    field("time", h("input", { id: "contact-time", type: "time", required: true, "aria-label": t("contact.local_time") }),
      `${String(now.getHours()).padStart(2, "0")}:${String(now.getMinutes()).padStart(2, "0")}`),
    field("note", h("input", { id: "contact-note", placeholder: t("contact.note"), "aria-label": t("contact.note_label") })),
    h("button", { type: "submit" }, t("contact.record")));
  return h("section.card", { id: "contacts" }, h("header", {}, h("h3", {}, t("contact.title")), h("span.count", {}, String(contacts.length))),
    h("div.scroll", {}, table([
      { label: t("col.date"), value: (c) => t("contact.when", { date: day(c.on), time: c.local_time }), width: "30%" },
      { label: t("col.party"), value: (c) => term("party", c.party) },
      { label: t("col.channel"), value: (c) => t("contact.how", { channel: term("channel", c.channel), direction: term("direction", c.direction) }) },
      { label: t("col.outcome"), value: (c) => h("span", {}, pill("contact_outcome", c.outcome), c.refusal_reasons && c.refusal_reasons.length
        ? " " + c.refusal_reasons.map((r) => term("contact_refusal", r)).join(t("common.list_separator")) : ""), wrap: true }],
      contacts, { empty: t("contact.none") })), form);
}

function factsCard(ctx) {
  const cv = ctx.caseView;
  const loans = cv.loans || [];
  const st = cv.statement;
  // a statement's lines summed in cents, never as floats
  const cents = (v) => { const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(String(v || "0")); return m ? BigInt(m[1]) * 100n + BigInt(((m[2] || "") + "00").slice(0, 2)) : 0n; };
  const sum = (lines) => { const c = (lines || []).reduce((total, l) => total + cents(l.monthly_amount), 0n); return `${c / 100n}.${String(c % 100n).padStart(2, "0")}`; };
  return h("section.card", { id: "facts" }, h("h3", {}, t("facts.title")),
    table([{ label: t("col.loan"), value: (l) => l.loan_id }, { label: t("col.outstanding"), value: (l) => money(l.outstanding_principal), num: true },
      { label: t("col.instalment"), value: (l) => money(l.contractual_instalment), num: true },
      { label: t("col.dpd"), value: (l) => formatCount(l.days_past_due), num: true, width: "52px" }], loans),
    st ? h("dl.facts", { style: "margin-top:8px" },
      h("dt", {}, t("facts.income")), h("dd", {}, money(sum(st.income))),
      h("dt", {}, t("facts.essential")), h("dd", {}, money(sum(st.essential_expenditure))),
      h("dt", {}, t("facts.other_debts")), h("dd", {}, money(sum(st.other_debt_payments))),
      h("dt", {}, t("facts.dependants")), h("dd", {}, formatCount(st.dependants))) : h("p.empty", {}, t("facts.no_statement")),
    cv.story ? h("p.muted", { style: "overflow-wrap:anywhere" }, h("b", {}, t("facts.story")), " ", cv.story) : null);
}

function timelineCard(ctx) {
  // every event of the case, from every service, in the order it occurred (the read model's): what
  // happened in the language's words, with the read model's one-line summary of the event's fields
  const rm = ctx.readModel;
  const entries = rm ? rm.events : [];
  const body = !rm ? h("p.error", {}, t("error.read_model", { detail: ctx.readModelError ? failure(ctx.readModelError) : t("common.unavailable") }))
    : entries.length ? h("ol.timeline", {}, entries.map((e) => h("li", { dataset: { type: e.type } }, h("span", {}, date(e.business_date)),
        h("span.kind", { title: `${e.type} · ${e.producer}` }, term("event", e.type)), h("span.what", {}, e.line ? phraseText(e.line.key, e.line.args) : e.summary)))) : h("p.empty", {}, t("timeline.none"));
  return h("section.card", { id: "timeline" }, h("header", {}, h("h3", {}, t("timeline.title")),
    h("span.muted", {}, rm && rm.queue ? term("case_queue", rm.queue) : ""),
    rm && (rm.near_breach || []).length ? h("span", { id: "timeline-near-breach" }, pill("early_warning", "near_breach")) : null,
    h("span.count", {}, String(entries.length))), body);
}

// -- KPIs -----------------------------------------------------------------------------------------
function barChart(data, opts) {
  // horizontal bars: [{label, value, note}]
  const width = 560, rowH = 26, left = opts.left || 130, right = 70;
  const max = Math.max(1, ...data.map((d) => d.value || 0));
  const svg = s("svg", { viewBox: `0 0 ${width} ${data.length * rowH + 10}`, role: "img", "aria-label": opts.title });
  data.forEach((d, i) => {
    const y = 5 + i * rowH, w = ((d.value || 0) / max) * (width - left - right);
    svg.append(s("text", { x: left - 8, y: y + 16, "text-anchor": "end" }, d.label),
      s("rect", { x: left, y: y + 3, width: Math.max(w, 1), height: rowH - 8, rx: 3, fill: opts.color || "#1f4e79" }),
      s("text", { x: left + w + 6, y: y + 16 }, d.note !== undefined ? d.note : String(d.value)));
  });
  return svg;
}
function columnChart(data, opts) {
  // vertical columns of rates 0..1 (or counts): [{label, value, note}]
  const width = 560, height = 220, bottom = 36, top = 16, left = 40;
  const max = opts.max || Math.max(1e-9, ...data.map((d) => d.value || 0));
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": opts.title });
  const plotW = width - left - 10, plotH = height - top - bottom, step = plotW / Math.max(data.length, 1);
  svg.append(s("line", { class: "axis", x1: left, y1: top + plotH, x2: width - 10, y2: top + plotH }));
  svg.append(s("text", { x: left - 6, y: top + 4, "text-anchor": "end" }, opts.format ? opts.format(max) : String(max)));
  svg.append(s("text", { x: left - 6, y: top + plotH, "text-anchor": "end" }, "0"));
  data.forEach((d, i) => {
    const v = d.value || 0, barH = (v / max) * plotH, x = left + i * step + step * 0.15;
    svg.append(s("rect", { x, y: top + plotH - barH, width: step * 0.7, height: Math.max(barH, v ? 1 : 0), rx: 2, fill: opts.color || "#1f4e79" }),
      s("text", { x: x + step * 0.35, y: top + plotH + 14, "text-anchor": "middle" }, d.label));
    if (d.note) svg.append(s("text", { x: x + step * 0.35, y: top + plotH - barH - 4, "text-anchor": "middle" }, d.note));
  });
  if (opts.xLabel) svg.append(s("text", { x: left + plotW / 2, y: height - 4, "text-anchor": "middle" }, opts.xLabel));
  return svg;
}
function donut(rate, label) {
  const r = 60, c = 2 * Math.PI * r, v = rate || 0;
  return s("svg", { viewBox: "0 0 180 160", role: "img", "aria-label": label, style: "max-width:200px" },
    s("circle", { cx: 90, cy: 75, r, fill: "none", stroke: "#eef1f4", "stroke-width": 20 }),
    s("circle", { cx: 90, cy: 75, r, fill: "none", stroke: "#1e7b45", "stroke-width": 20, "stroke-dasharray": `${v * c} ${c}`, transform: "rotate(-90 90 75)" }),
    s("text", { x: 90, y: 82, "text-anchor": "middle", style: "font-size:22px;font-weight:700" }, pct(rate)),
    s("text", { x: 90, y: 154, "text-anchor": "middle" }, label));
}
function chartCard(id, title, svg, note) {
  return h("section.card.chart", { id }, h("h3", {}, title), svg, note ? h("p.note", {}, note) : null);
}

async function renderKpis(main) {
  const k = await call("GET", "/kpis");
  const tile = (value, label) => h("div.tile", {}, h("div.value", {}, value), h("div.label", {}, label));
  const cure = k.cure || {};
  const ttfd = k.time_to_first_decision || {};
  const breach = (k.breach_by_months_on_plan || []).slice(0, 24);
  const roll = k.roll_rates || [];
  const days = (n) => n === null || n === undefined ? none() : t("kpi.days", { n: formatCount(n) });
  const pairs = (counts, group) => Object.entries(counts || {}).map(([code, n]) => t("kpi.pair", { what: term(group, code), n: formatCount(n) }))
    .join(t("common.list_separator"));
  main.replaceChildren(...[
    h("h2", {}, k.as_of ? t("kpi.title_as_of", { date: date(k.as_of) }) : t("kpi.title")),
    lagLine(k.read_model),
    k.computed ? h("p.muted", { id: "kpis-computed" }, k.computed.at
      ? t("kpi.computed_at", { at: k.computed.at, events: formatCount(k.computed.of_events) })
      : t("kpi.computed_now", { events: formatCount(k.computed.of_events) })) : null,
    k.unavailable && k.unavailable.length ? h("p.error", {}, t("kpi.unavailable", { what: k.unavailable.join("; ") })) : null,
    h("div.tiles", {},
      tile(formatCount(k.cases_opened), t("kpi.cases_opened")), tile(pct(k.approval_rate), t("kpi.approval_rate")),
      tile(pct(k.offer_acceptance_rate), t("kpi.offer_acceptance_rate")), tile(formatCount(k.active_agreements), t("kpi.active_agreements")),
      tile(formatCount(k.agreements_near_breach ?? 0), t("kpi.agreements_near_breach")),
      tile(pct(k.promise_kept_rate), t("kpi.promise_kept_rate")),
      tile(pct(cure.rate), t("kpi.cure_rate")), tile(pct(k.legal_referral_rate), t("kpi.legal_referral_rate")),
      tile(days(ttfd.median_days), t("kpi.median_ttfd"))),
    h("div.grid", {},
      chartCard("kpi-funnel", t("kpi.funnel"), barChart((k.funnel || []).map((f) => ({ label: term("funnel", f.stage), value: f.count })), { title: t("kpi.funnel"), left: 120 }),
        t("kpi.funnel_note")),
      chartCard("kpi-cure", t("kpi.cure_rate_title"), h("div", { style: "display:flex;gap:20px;align-items:center;flex-wrap:wrap" }, donut(cure.rate, t("kpi.cure_donut")),
        h("dl.facts", {}, h("dt", {}, t("kpi.ever_delinquent")), h("dd", {}, formatCount(cure.delinquent)), h("dt", {}, t("kpi.cured")), h("dd", {}, formatCount(cure.cured)),
          h("dt", {}, t("kpi.still_delinquent")), h("dd", {}, formatCount(cure.still_delinquent)), h("dt", {}, t("kpi.referred")), h("dd", {}, formatCount(cure.referred)))),
        t("kpi.cure_note")),
      chartCard("kpi-breach", t("kpi.breach_title"), breach.length ? columnChart(breach.map((b) => ({ label: t("kpi.month_label", { m: b.month }), value: b.rate || 0,
        note: b.breached ? t("common.of_count", { part: b.breached, whole: b.exposed }) : "" })),
        { title: t("kpi.breach_rate"), max: Math.max(0.05, ...breach.map((b) => b.rate || 0)), format: pct, color: "#b3261e", xLabel: t("kpi.month_on_plan") })
        : h("p.empty", {}, t("kpi.no_plan")), t("kpi.breach_note")),
      chartCard("kpi-roll", t("kpi.roll_title"), barChart(roll.map((r) => ({ label: t("kpi.roll_label", { from: r.from, to: r.to }), value: r.rate || 0,
        note: t("kpi.roll_note_bar", { rate: pct(r.rate), rolled: r.rolled, observed: r.observed }) })),
        { title: t("kpi.roll_rates"), left: 120, color: "#b26a00" }), t("kpi.roll_note")),
      chartCard("kpi-ttfd", t("kpi.ttfd_title"), columnChart((ttfd.histogram || []).map((b) => ({ label: b.label, value: b.count, note: b.count ? String(b.count) : "" })),
        { title: t("kpi.ttfd_title"), xLabel: t("kpi.ttfd_axis") }), t("kpi.ttfd_note", { decided: formatCount(ttfd.decided || 0),
        median: days(ttfd.median_days), p90: days(ttfd.p90_days) })),
      chartCard("kpi-cases", t("kpi.cases_title"), barChart(Object.entries(k.cases_by_hardship || {}).map(([code, value]) => ({ label: term("hardship", code), value })),
        { title: t("kpi.cases_title"), left: 130 }), t("kpi.by_channel", { counts: pairs(k.cases_by_channel, "channel") || none() })),
      chartCard("kpi-levels", t("kpi.levels_title"), barChart(Object.entries(k.active_by_level || {}).map(([code, value]) => ({ label: term("level", code), value })),
        { title: t("kpi.levels_title"), left: 130 }), t("kpi.notices_sent", { counts: pairs(k.notices_by_level, "level") || t("common.none_word") })))].filter(Boolean));
}

// -- policies: champion and challenger side by side ----------------------------------------------
// /policies: the arms the policy file names with their shares, each arm's KPIs (the read model's,
// every KPI computed again for the cases of that policy version) and, for each rate, the
// challenger minus the champion (B − A) with its 95 % interval (Newcombe's, computed server-side)
const COMPARED_RATES = ["approval", "offer_acceptance", "cure", "legal_referral", "promise_kept", "appeal_overturn"];
const formatPoints = (fraction) => absent(fraction) ? t("common.none")
  : new Intl.NumberFormat(i18n.lang, { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1, signDisplay: "exceptZero" }).format(String(fraction));
async function renderPolicies(main) {
  const p = await call("GET", "/policies");
  const arms = p.arms || [];
  const observed = new Map(arms.map((a) => [a.policy_version, a]));
  const total = arms.reduce((n, a) => n + a.cases, 0);
  const armsCard = h("section.card", { id: "policy-arms" }, h("h3", {}, t("policies.arms")),
    table([
      { label: t("col.arm"), value: (a) => pill("arm", a.arm) },
      { label: t("col.policy_version"), value: (a) => a.policy_version },
      { label: t("col.share_configured"), value: (a) => formatPercent(a.share, 0), num: true },
      { label: t("col.cases"), value: (a) => observed.has(a.policy_version) ? formatCount(observed.get(a.policy_version).cases) : none(), num: true },
      { label: t("col.share_observed"), value: (a) => observed.has(a.policy_version) && total ? pct(observed.get(a.policy_version).cases / total) : none(), num: true }],
    p.configured || [], { rowData: (a) => ({ arm: a.arm }) }),
    h("p.note", {}, t("policies.assignment")));
  if (arms.length < 2) {
    main.replaceChildren(h("h2", {}, t("policies.title")), armsCard,
      h("p.empty", { id: "policies-one-arm" }, (p.configured || []).length > 1 ? t("policies.no_cases_yet") : t("policies.champion_only")));
    return;
  }
  const cell = (a, name) => {
    const [k, n] = a.kpis.proportions[name];
    return n ? h("span", {}, pct(k / n), " ", h("span.muted", {}, t("common.of_count", { part: formatCount(k), whole: formatCount(n) }))) : none();
  };
  const interval = (name) => {
    const row = (p.comparison || []).find((r) => r.kpi === name);
    if (!row || !row.interval) return none();
    const i = row.interval;
    return h("span", { dataset: { low: i.low, high: i.high } }, t("policies.difference",
      { d: formatPoints(i.difference), low: formatPoints(i.low), high: formatPoints(i.high) }));
  };
  const counts = [
    ["cases_opened", (a) => formatCount(a.kpis.cases_opened)],
    ["active_agreements", (a) => formatCount(a.kpis.active_agreements)],
    ["agreements_near_breach", (a) => formatCount(a.kpis.agreements_near_breach ?? 0)],
    ["median_ttfd", (a) => { const d = a.kpis.time_to_first_decision.median_days; return absent(d) ? none() : t("kpi.days", { n: formatCount(d) }); }],
  ];
  const head = h("tr", {}, h("th", {}, t("col.kpi")), arms.map((a) => h("th.num", {}, term("arm", a.arm), h("br"), h("span.muted", {}, a.policy_version))),
    h("th.num", {}, t("policies.b_minus_a")));
  const rows = [
    ...COMPARED_RATES.map((name) => h("tr", { dataset: { kpi: name } }, h("td", {}, t(`kpi.${name}_rate`)), arms.map((a) => h("td.num", {}, cell(a, name))), h("td.num", {}, interval(name)))),
    ...counts.map(([name, value]) => h("tr", { dataset: { kpi: name } }, h("td", {}, t(`kpi.${name}`)), arms.map((a) => h("td.num", {}, value(a))), h("td.num", {}, ""))),
  ];
  main.replaceChildren(
    h("h2", {}, p.as_of ? t("policies.title_as_of", { date: date(p.as_of) }) : t("policies.title")),
    armsCard,
    h("section.card", { id: "policy-kpis" }, h("h3", {}, t("policies.side_by_side")),
      h("div.scroll", {}, h("table", {}, h("thead", {}, head), h("tbody", {}, rows))),
      h("p.note", {}, t("policies.interval_note"))));
}

// -- wiring ---------------------------------------------------------------------------------------
$("#logout").addEventListener("click", logout);
$("#case-search").addEventListener("submit", (e) => { e.preventDefault(); const id = $("#case-search-input").value.trim(); if (id) location.hash = `#/case/${encodeURIComponent(id)}`; });
$("#cob-button").addEventListener("click", async () => {
  try { const r = await api("monitoring", "/business-date/advance", "POST", {}); flash(t("cob.done", { date: date(r.business_date) })); refreshBusinessDate(); route(); }
  catch (e) { flash(t("action.failed", { action: t("cob.button"), detail: failure(e) }), true); }
});
// the language switch: the page's words change at once, what it shows is drawn again
for (const languageSwitch of document.querySelectorAll("select[data-lang-switch]")) languageSwitch.addEventListener("change", async (e) => {
  await loadLanguage(e.target.value);
  if (state.session) { $("#who-role").textContent = term("role", state.role); refreshBusinessDate(); route(); }
});
window.addEventListener("hashchange", route);
(async function boot() {
  await loadLanguage(savedLanguage());
  try {
    const who = await call("GET", "/auth/session");
    Object.assign(state, { session: Date.now(), user: who.username, role: who.role });
    start();
  } catch (_) { showLogin(); }
})();
