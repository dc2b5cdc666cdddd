/* Forbear console: vanilla JS, no dependencies. Everything goes through this origin:
 * /auth/* (login at the identity provider, the session in an HttpOnly cookie the page never reads),
 * /kpis and /readmodel/* (queues, case timelines and KPIs from the console's read model, in SQL)
 * and /api/<service>/<path> (a proxy that adds the session's access token, for actions and case details).
 * Personal data is shown as the APIs give it, masked once more here: the page never unmasks. */
"use strict";

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
    if (session && session === state.session) showLogin("Your session has ended; log in again.");
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

// -- formatting ---------------------------------------------------------------------------------
// a rate as a fraction ("0.110963") shown as a percentage to 2 places ("11.10 %"), by decimal
// digits, not a float
function percent(fraction) {
  const m = /^(\d+)(?:\.(\d*))?$/.exec(String(fraction));
  if (!m) return String(fraction);
  const digits = (m[1] + ((m[2] || "") + "0000").slice(0, 4)).replace(/^0+(?=\d)/, "");
  const rest = (m[2] || "").slice(4);
  let basis = BigInt(digits || "0");  // hundredths of a percent
  if (rest && Number(rest[0]) >= 5) basis += 1n;  // half up
  const s = basis.toString().padStart(3, "0");
  return `${s.slice(0, -2)}.${s.slice(-2)} %`;
}
const money = (v, cur) => v === null || v === undefined || v === "" ? "—" : `${Number(v).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}${cur ? " " + cur : ""}`;
const pct = (v) => v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`;
const pill = (text) => text ? h("span.pill." + String(text).replace(/[^a-z_]/gi, "_"), {}, String(text).replace(/_/g, " ")) : "—";
const words = (text) => text ? String(text).replace(/_/g, " ") : "—";
const caseLink = (id) => id ? h("a", { href: `#/case/${encodeURIComponent(id)}`, title: id }, id) : "—";

function table(columns, rows, opts = {}) {
  if (!rows.length) return h("p.empty", {}, opts.empty || "Nothing here.");
  return h("table", {},
    h("colgroup", {}, columns.map((c) => h("col", { style: c.width ? `width:${c.width}` : null }))),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { class: c.num ? "num" : null }, c.label)))),
    h("tbody", {}, rows.map((r) => h("tr", { class: opts.rowClass ? opts.rowClass(r) : null },
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
  $("#who-name").textContent = state.user; $("#who-role").textContent = state.role;
  $("#cob-button").hidden = state.role !== "supervisor";
  if (!location.hash || location.hash === "#/login") history.replaceState(null, "", "#/queues");
  refreshBusinessDate(); route();
}
async function refreshBusinessDate() {
  const r = await tryApi("monitoring", "/business-date");
  $("#business-date").textContent = r.ok ? r.data.business_date : "unknown";
}

// -- routing --------------------------------------------------------------------------------------
async function route() {
  if (!state.session) return showLogin();
  const hash = location.hash || "#/queues";
  const main = $("#main");
  const [, view, arg] = hash.split("/");
  document.querySelectorAll("[data-nav]").forEach((a) => a.classList.toggle("active", a.dataset.nav === view));
  main.replaceChildren(h("p.muted", {}, "Loading…"));
  main.dataset.view = view;
  try {
    if (view === "case" && arg) await renderCase(main, decodeURIComponent(arg));
    else if (view === "kpis") await renderKpis(main);
    else await renderQueues(main);
  } catch (e) {
    main.replaceChildren(h("div.card", {}, h("h3", {}, "Could not load this page"), h("p.error", {}, e.message)));
  }
}

// -- work queues ----------------------------------------------------------------------------------
// every queue is one SQL query on the console's read model (/readmodel/queues/<id>), never a service's list
const QUEUES = [
  { id: "awaiting-evidence", title: "Awaiting evidence",
    columns: [
      { label: "Case", value: (c) => caseLink(c.case_id), width: "165px" },
      { label: "Hardship", value: (c) => words(c.hardship_category) },
      { label: "Deadline", value: (c) => c.evidence_deadline || "—" },
      { label: "DPD", value: (c) => c.dpd_at_first_contact, num: true, width: "52px" }] },
  { id: "evidence-to-review", title: "Evidence to review",
    columns: [
      { label: "Case", value: (c) => caseLink(c.case_id), width: "165px" },
      { label: "Hardship", value: (c) => words(c.hardship_category) },
      { label: "Opened", value: (c) => c.opened_on },
      { label: "Channel", value: (c) => c.channel }] },
  { id: "ready-to-submit", title: "Ready to submit",
    columns: [
      { label: "Case", value: (c) => caseLink(c.case_id), width: "165px" },
      { label: "Hardship", value: (c) => words(c.hardship_category) },
      { label: "Opened", value: (c) => c.opened_on }] },
  { id: "supervisor-review", title: "Supervisor review",
    columns: [
      { label: "Case", value: (r) => caseLink(r.case_id), width: "165px" },
      { label: "Hardship", value: (r) => words(r.hardship_category) },
      { label: "Since", value: (r) => r.since || "—" }] },
  { id: "appeals-to-review", title: "Appeals to review",
    columns: [
      { label: "Case", value: (a) => caseLink(a.case_id), width: "165px" },
      { label: "Appeal", value: (a) => a.appeal_id },
      { label: "By", value: (a) => a.lodged_by },
      { label: "Lodged", value: (a) => a.since || "—" }] },
  { id: "offers-open", title: "Offers awaiting acceptance",
    columns: [
      { label: "Case", value: (o) => caseLink(o.case_id), width: "165px" },
      { label: "Option", value: (o) => `#${o.rank} ${words(o.option)}` },
      { label: "Instalment", value: (o) => money(o.new_instalment), num: true },
      { label: "Expires", value: (o) => o.expires_on }] },
  { id: "awaiting-signature", title: "Awaiting signature",
    columns: [
      { label: "Case", value: (a) => caseLink(a.case_id), width: "165px" },
      { label: "Agreement", value: (a) => a.agreement_id },
      { label: "Waiting for", value: (a) => a.awaiting_signature_of || "—" },
      { label: "Accepted", value: (a) => a.accepted_on || "—" }] },
  { id: "active-agreements", title: "Active agreements",
    columns: [
      { label: "Case", value: (a) => caseLink(a.case_id), width: "165px" },
      { label: "Agreement", value: (a) => a.agreement_id },
      { label: "Option", value: (a) => words(a.option) },
      { label: "Active since", value: (a) => a.activated_on || "—" }] },
  { id: "near-breach", title: "Near breach (early warning)",
    columns: [
      { label: "Case", value: (w) => caseLink(w.case_id), width: "165px" },
      { label: "#", value: (w) => w.instalment, num: true, width: "40px" },
      { label: "Due", value: (w) => w.due_date },
      { label: "Paid by checkpoint", value: (w) => `${money(w.amount_paid)} / ${money(w.amount_due)}`, num: true },
      { label: "Checkpoint", value: (w) => w.checkpoint }] },
  { id: "at-risk", title: "Agreements at risk", atRisk: true,
    columns: [
      { label: "Case", value: (a) => caseLink(a.case_id), width: "165px" },
      { label: "Level", value: (a) => pill(a.level) },
      { label: "Since", value: (a) => a.level_since || "—" },
      { label: "Remedy by", value: (a) => a.remedy_deadline || "—" },
      { label: "Referral held", value: (a) => a.referral_blocked_since ? `since ${a.referral_blocked_since}` : "—" }] },
  { id: "legal-referrals", title: "Legal referrals",
    columns: [
      { label: "Case", value: (r) => caseLink(r.case_id), width: "165px" },
      { label: "Agreement", value: (r) => r.agreement_id },
      { label: "Route", value: (r) => words(r.referral_route) },
      { label: "Referred", value: (r) => r.referred_on }] },
];
const LEVEL_ORDER = ["legal_referral", "breach_notice", "warning", "reminder"];

function lagLine(lag) {
  // the newest event the read model projected, and how long after it occurred it was projected
  if (!lag || !lag.last_event_id) return h("p.muted.lag", { id: "read-model-lag" }, "Read model: no event projected yet.");
  return h("p.muted.lag", { id: "read-model-lag", title: `projected at ${lag.last_projected_at}; ${lag.events_projected} events so far` },
    `As of event ${lag.last_event_type} ${String(lag.last_event_id).slice(0, 8)}, ${Number(lag.behind_seconds).toFixed(1)} s behind`
    + ` (its occurred_at to its projection; last projection ${Number(lag.idle_seconds).toFixed(0)} s ago).`);
}

async function renderQueues(main) {
  const [results, lag] = await Promise.all([Promise.all(QUEUES.map(async (q) => {
    try { return { ok: true, data: await call("GET", `/readmodel/queues/${q.id}?limit=200`) }; }
    catch (e) { return { ok: false, error: e }; }
  })), call("GET", "/readmodel/lag").catch(() => null)]);
  const cards = QUEUES.map((q, i) => {
    const r = results[i];
    const rows = r.ok ? items(r.data) : [];
    const total = r.ok ? (r.data.total !== undefined ? r.data.total : rows.length) : null;
    let body;
    if (!r.ok) body = h("p.error", {}, `read model: ${r.error.status ? "HTTP " + r.error.status + " — " : ""}${r.error.message}`);
    else if (q.atRisk) {
      const byLevel = LEVEL_ORDER.map((lvl) => [lvl, (r.data.by_level || {})[lvl] || 0]).filter(([, n]) => n);
      body = h("div", {}, byLevel.length ? h("p.actions", {}, byLevel.map(([lvl, n]) => h("span", {}, pill(lvl), " ", n))) : null,
        h("div.scroll", {}, table(q.columns, rows, { empty: "No agreement in arrears." })));
    } else body = h("div.scroll", {}, table(q.columns, rows));
    return h("section.card", { id: `queue-${q.id}`, dataset: { queue: q.id } },
      h("header", {}, h("h3", {}, q.title), h("span.count", {}, r.ok ? String(total) : "!")), body);
  });
  main.replaceChildren(h("h2", {}, "Work queues"), lagLine(lag), h("div.grid", {}, cards));
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
  const monitored = active ? await tryApi("monitoring", `/agreements/${encodeURIComponent(active.agreement_id)}`) : null;
  const myReviews = reviews.ok ? items(reviews.data).filter((r) => r.case_id === caseId) : [];
  const ctx = { caseId, caseView, decisions: decisions.ok ? items(decisions.data) : [], decisionsError: decisions.ok ? null : decisions.error,
    offers: offerList, offersError: offers.ok ? null : offers.error, agreements,
    monitored: monitored && monitored.ok ? monitored.data : null, monitoredError: monitored && !monitored.ok ? monitored.error : null,
    reviews: myReviews, appeals: appeals.ok ? items(appeals.data) : [], readModel: readModel.ok ? readModel.data : null, readModelError: readModel.ok ? null : readModel.error };
  const reload = () => renderCase(main, caseId).catch((e) => flash(e.message, true));
  const act = (label, fn) => async (event) => {
    if (event) event.preventDefault();
    const button = event && (event.submitter || event.currentTarget);
    if (button && button.disabled !== undefined) button.disabled = true;
    // the page is drawn again before the flash confirms: what the operator sees next is the new state
    try { await fn(); await reload(); flash(label); }
    catch (e) { flash(`${label} failed: ${e.message}${e.reason ? " (" + e.reason + ")" : ""}`, true); if (button) button.disabled = false; }
  };

  const b = caseView.borrower || {};
  const head = h("div.case-head", {},
    h("h2", { id: "case-title" }, `Case ${caseId}`), pill(caseView.status),
    h("span.muted", {}, `${words(caseView.hardship_category)} · ${caseView.channel} · DPD at first contact ${caseView.dpd_at_first_contact} · opened ${caseView.opened_on}`),
    h("span.muted", {}, `Borrower ${b.borrower_id || caseView.borrower_id}: ${maskName(b.name) || "—"}, ID ${maskNationalId(b.national_id) || "—"}, phone ${maskPhone(b.phone) || "—"}`),
    // the whole record for a court or for the borrower's copy: one ZIP, every file hashed in its manifest
    h("a", { id: "case-file", href: `/case-file/${encodeURIComponent(caseId)}`, download: "" }, "Case file (ZIP)"));

  const left = h("div.stack", {},
    evidenceCard(ctx, act), decisionsCard(ctx, act), offersCard(ctx, act), agreementCard(ctx, act), scheduleCard(ctx, act));
  const right = h("div.stack", {}, timelineCard(ctx), contactsCard(ctx, act), representativesCard(ctx, act), factsCard(ctx));
  main.replaceChildren(head, h("div.case-grid", {}, left, right));
}

function evidenceCard(ctx, act) {
  const cv = ctx.caseView, ev = cv.evidence || {};
  const docs = cv.documents || [];
  const canSubmit = ["ready_to_submit", "awaiting_evidence", "evidence_to_review"].includes(cv.status);
  const rows = docs.map((d) => {
    const reasonInput = h("input", { placeholder: "reason to reject", "aria-label": "rejection reason", "data-reason": d.document_id });
    const review = d.status === "pending" ? h("div.actions", {},
      h("button", { "data-accept": d.document_id, onclick: act(`Document ${d.document_type} accepted`, () =>
        api("intake", `/cases/${encodeURIComponent(ctx.caseId)}/evidence/${encodeURIComponent(d.document_id)}/review`, "POST", { outcome: "accept" })) }, "Accept"),
      reasonInput,
      h("button.danger", { "data-reject": d.document_id, onclick: act(`Document ${d.document_type} rejected`, () => {
        if (!reasonInput.value.trim()) throw new Error("write the reason for the rejection");
        return api("intake", `/cases/${encodeURIComponent(ctx.caseId)}/evidence/${encodeURIComponent(d.document_id)}/review`, "POST", { outcome: "reject", reason: reasonInput.value.trim() });
      }) }, "Reject")) : h("span.muted", {}, [d.rejection_reason, d.reviewed_by ? `by ${d.reviewed_by}` : null, d.reviewed_on].filter(Boolean).join(" · "));
    return { d, review };
  });
  return h("section.card", { id: "evidence" },
    h("header", {}, h("h3", {}, "Evidence"), h("span.muted", {}, `deadline ${cv.evidence_deadline || "—"}`),
      h("span.count", {}, ev.complete ? "complete" : `${(ev.accepted || []).length}/${(ev.required || []).length} accepted`)),
    ev.missing && ev.missing.length ? h("p.muted", {}, `Missing: ${ev.missing.map(words).join(", ")}`) : null,
    table([
      { label: "Document", value: (r) => words(r.d.document_type), width: "24%" },
      { label: "Status", value: (r) => pill(r.d.status), width: "12%" },
      { label: "Uploaded", value: (r) => r.d.uploaded_on, width: "14%" },
      { label: "Review", value: (r) => r.review, wrap: true }], rows, { empty: "No document uploaded yet." }),
    canSubmit ? h("div.actions", { style: "margin-top:8px" },
      h("button", { id: "submit-case", disabled: cv.status !== "ready_to_submit" ? true : null,
        onclick: act("Case submitted for evaluation", () => api("intake", `/cases/${encodeURIComponent(ctx.caseId)}/submit`, "POST")) }, "Submit for evaluation"),
      h("span.muted", {}, cv.status === "ready_to_submit" ? "Every required document is accepted." : "Submit once every required document is accepted.")) : null);
}

function reasonsList(reasons) {
  return reasons && reasons.length ? h("ul.reasons", {}, reasons.map((r) => h("li", {}, h("b", {}, words(r.code || r)), r.detail ? ": " + r.detail : ""))) : null;
}

function decisionsCard(ctx, act) {
  const list = ctx.decisions.slice().sort((a, b) => String(a.decided_on).localeCompare(String(b.decided_on)));
  const reviewForms = ctx.reviews.map((r) => {
    const reason = h("textarea", { rows: 2, cols: 40, placeholder: "written reason (required)", "aria-label": "supervisor reason", id: `review-reason-${r.review_id}` });
    const decide = (outcome) => act(`Supervisor review: ${outcome}`, () => {
      if (!reason.value.trim()) throw new Error("a supervisor decision needs a written reason");
      return api("evaluation", `/reviews/${encodeURIComponent(r.review_id)}/decide`, "POST", { outcome, reason: reason.value.trim() });
    });
    return h("div.offer", { dataset: { review: r.review_id } }, h("b", {}, "Supervisor review open"), reasonsList(r.reasons),
      ctx.role === "supervisor" || state.role === "supervisor" ? h("form.inline", { onsubmit: (e) => e.preventDefault() }, reason,
        h("button", { type: "button", onclick: decide("approve") }, "Approve"),
        h("button.danger", { type: "button", onclick: decide("decline") }, "Decline"))
        : h("p.muted", {}, "A supervisor decides this review."));
  });
  return h("section.card", { id: "decisions" }, h("header", {}, h("h3", {}, "Decisions"), h("span.count", {}, String(list.length))),
    ctx.decisionsError ? h("p.error", {}, `evaluation: ${ctx.decisionsError.message}`) : null,
    list.length ? list.map((d) => h("div.offer", {},
      h("div", {}, pill(d.outcome), " ", h("span.muted", {}, `${d.decided_on} · by ${d.decided_by || "rules"} · policy ${d.policy_version || "—"}${d.submission ? " · submission " + d.submission : ""}`)),
      d.override_reason ? h("p", {}, h("b", {}, "Supervisor's reason: "), d.override_reason) : null,
      d.appeal_deadline ? h("p.muted", { dataset: { appealDeadline: d.decision_id } }, `The borrower may appeal until ${d.appeal_deadline}.`) : null,
      reasonsList(d.reasons))) : h("p.empty", {}, "No decision yet."),
    reviewForms, ctx.appeals.map((a) => appealForm(a, act)));
}

function appealForm(a, act) {
  // an appeal of a decline: a supervisor other than the one who decided upholds or overturns it
  const reason = h("textarea", { rows: 2, cols: 40, placeholder: "written reason (required)", "aria-label": "appeal reason", id: `appeal-reason-${a.appeal_id}` });
  const decide = (outcome) => act(`Appeal ${outcome === "uphold" ? "upheld" : "overturned"}`, () => {
    if (!reason.value.trim()) throw new Error("an appeal's decision needs a written reason");
    return api("evaluation", `/appeals/${encodeURIComponent(a.appeal_id)}/decide`, "POST", { outcome, reason: reason.value.trim() });
  });
  const evidence = (a.evidence || []).map((e) => h("li", {}, h("b", {}, words(e.document_type)), ": ", e.description));
  return h("div.offer", { dataset: { appeal: a.appeal_id } },
    h("div", {}, h("b", {}, "Appeal"), " ", pill(a.status), " ",
      h("span.muted", {}, `lodged ${a.lodged_on} by ${a.lodged_by}${a.representative_id ? " " + a.representative_id : ""} · window until ${a.deadline}`
        + (a.decision_decided_by_subject ? ` · decline by ${a.decision_decided_by_subject}` : " · decline by the rules"))),
    a.statement ? h("p", {}, h("b", {}, "Grounds: "), a.statement) : null,
    evidence.length ? h("ul.reasons", {}, evidence) : null,
    a.status !== "pending" ? h("p.muted", {}, `${words(a.status)} on ${a.decided_on}${a.decided_by_subject ? " by " + a.decided_by_subject : ""}: ${a.decision_reason || ""}`)
      : state.role === "supervisor" ? h("form.inline", { onsubmit: (e) => e.preventDefault() }, reason,
        h("button", { type: "button", "data-uphold": a.appeal_id, onclick: decide("uphold") }, "Uphold decline"),
        h("button.danger", { type: "button", "data-overturn": a.appeal_id, onclick: decide("overturn") }, "Overturn"))
      : h("p.muted", {}, "A supervisor other than the one who decided reviews this appeal."));
}

function offersCard(ctx, act) {
  const offers = ctx.offers.slice().sort((a, b) => (a.rank || 0) - (b.rank || 0));
  return h("section.card", { id: "offers" }, h("header", {}, h("h3", {}, "Offers"), h("span.count", {}, String(offers.length))),
    ctx.offersError ? h("p.error", {}, `agreement: ${ctx.offersError.message}`) : null,
    offers.length ? offers.map((o) => h("div.offer", { dataset: { offer: o.offer_id } },
      h("div", {}, h("b", {}, `#${o.rank} ${words(o.option)}`), " ", pill(o.status), " ", h("span.muted", {}, `expires ${o.expires_on}`)),
      h("div.terms", {},
        h("span", {}, `Instalment ${money(o.old_instalment)} → `, h("b", {}, money(o.new_instalment, o.currency))),
        h("span", {}, `${o.term_months} months`), h("span", {}, `rate ${o.annual_rate}`),
        // the annualised cost a borrower must be shown (年化利率, IRR method), beside the nominal rate
        o.apr ? h("span.apr", { title: "APR (年化利率): periodic IRR x periods per year" }, `APR ${percent(o.apr)}`) : null,
        o.waived_amount ? h("span", {}, `waived ${money(o.waived_amount)}`) : null,
        o.capitalised_arrears ? h("span", {}, `capitalised ${money(o.capitalised_arrears)}`) : null),
      o.summary ? h("p.muted", {}, o.summary) : null,
      o.status === "open" && state.role !== "agent" ? h("p.muted", {}, "An agent accepts on the borrower's behalf.") : null,
      o.status === "open" && state.role === "agent" ? h("div.actions", {}, h("button", { "data-accept-offer": o.offer_id,
        onclick: act("Offer accepted on the borrower's behalf", () => api("agreement", `/offers/${encodeURIComponent(o.offer_id)}/accept`, "POST", {})) },
        "Accept on the borrower's behalf")) : null)) : h("p.empty", {}, "No offer."));
}

function agreementCard(ctx, act) {
  if (!ctx.agreements.length) return null;
  return ctx.agreements.map((a) => {
    const docBox = h("div");
    // the borrower's signature needs the one-time code sent to the borrower's phone: the agent has it
    // sent, the borrower reads it out, the agent types it (the console never sees the code otherwise)
    const codeInput = h("input", { id: "borrower-code", inputmode: "numeric", pattern: "[0-9]{6}", maxlength: "6",
      autocomplete: "one-time-code", placeholder: "6-digit code", "aria-label": "Code the borrower reads out" });
    // what the agent typed survives the page's re-render (after any action) until it is used
    drafted(`code:${a.agreement_id}`, codeInput);
    // sending a code changes nothing on the page: no re-render, so the agent types straight away
    const sendCode = async (event) => {
      if (event) event.preventDefault();
      try {
        await api("agreement", `/agreements/${encodeURIComponent(a.agreement_id)}/signing-code`, "POST", { channel: "sms" });
        flash("Code sent to the borrower's phone");
        codeInput.focus();
      } catch (e) { flash(`Sending the code failed: ${e.message}${e.reason ? " (" + e.reason + ")" : ""}`, true); }
    };
    const sign = (party) => act(`Signed as ${party === "lender" ? "the lender" : "the borrower (recorded on their behalf)"}`, async () => {
      const doc = await api("agreement", `/agreements/${encodeURIComponent(a.agreement_id)}/document`);
      const body = { party, document_sha256: doc.document_sha256 };
      if (party === "borrower") body.one_time_code = codeInput.value.trim();
      const answer = await api("agreement", `/agreements/${encodeURIComponent(a.agreement_id)}/signatures`, "POST", body);
      dropDrafts(`code:${a.agreement_id}`);
      return answer;
    });
    const signed = new Set((a.signatures || []).map((x) => x.party));
    return h("section.card", { id: "agreement", dataset: { agreement: a.agreement_id } },
      h("header", {}, h("h3", {}, "Agreement"), pill(a.status), h("span.count", {}, a.agreement_id)),
      h("dl.facts", {},
        h("dt", {}, "Option"), h("dd", {}, words(a.option)),
        h("dt", {}, "Document sha256"), h("dd", {}, h("code", {}, a.document_sha256)),
        h("dt", {}, "Accepted"), h("dd", {}, a.accepted_on || "—"),
        h("dt", {}, "Activated"), h("dd", {}, a.activated_on || "—"),
        h("dt", {}, "Payment method"), h("dd", {}, words(a.payment_method)),
        h("dt", {}, "Signatures"), h("dd", {}, (a.signatures || []).length ? (a.signatures || []).map((x) =>
          h("div", {}, `${x.party}: ${x.signed_by} (${x.signed_role}${x.on_behalf_of_borrower ? ", on the borrower's behalf" : ""}) on ${x.signed_on}${x.otp_verified ? `, code verified (${x.channel})` : ""}`)) : "none yet")),
      a.status === "awaiting_signatures" ? h("div.actions", { style: "margin-top:8px" },
        state.role === "agent" && !signed.has("borrower") ? h("button.secondary", { id: "send-code", onclick: sendCode }, "Send code to borrower") : null,
        state.role === "agent" && !signed.has("borrower") ? codeInput : null,
        state.role === "agent" ? h("button", { id: "sign-borrower", disabled: signed.has("borrower") ? true : null, onclick: sign("borrower") }, "Record borrower's signature") : null,
        state.role === "supervisor" ? h("button", { id: "sign-lender", disabled: !signed.has("borrower") || signed.has("lender") ? true : null, onclick: sign("lender") }, "Sign as lender") : null,
        h("span.muted", {}, signed.has("borrower") ? "Waiting for the lender's signature (a supervisor)." : "The borrower signs first (an agent records it), then a supervisor for the lender.")) : null,
      h("div.actions", { style: "margin-top:8px" }, h("button.secondary", { onclick: async () => {
        try { const doc = await api("agreement", `/agreements/${encodeURIComponent(a.agreement_id)}/document`); docBox.replaceChildren(h("pre.document", {}, doc.rendered_text)); }
        catch (e) { flash(e.message, true); } } }, "Show document")), docBox);
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
  const payment = h("form.inline", { id: "payment-form", onsubmit: act("Payment recorded", () => api("monitoring",
    `/agreements/${encodeURIComponent(active.agreement_id)}/payments`, "POST", { reference: $("#payment-reference").value.trim(), amount: $("#payment-amount").value.trim() })) },
    h("input", { id: "payment-reference", placeholder: "payment reference", required: true, "aria-label": "payment reference" }),
    h("input", { id: "payment-amount", placeholder: "amount (CNY)", required: true, inputmode: "decimal", pattern: "[0-9]+(\\.[0-9]{1,2})?", "aria-label": "amount" }),
    h("button", { type: "submit" }, "Record payment"));
  return h("section.card", { id: "schedule", dataset: { monitored: m ? m.status : "not yet" } },
    h("header", {}, h("h3", {}, "Schedule and payments"), m ? pill(m.level) : null,
      m && (m.near_breach || []).length ? h("span", { id: "near-breach-flag" }, pill("near_breach")) : null,
      h("span.count", {}, m ? `DPD ${m.days_past_due ?? m.dpd ?? 0}` : "")),
    ctx.monitoredError ? h("p.error", {}, `monitoring: ${ctx.monitoredError.message}`) : null,
    m ? h("p.muted", {}, [m.arrears ? `arrears ${money(m.arrears.total)}` : null,
      m.missed_instalments_outstanding ? `${m.missed_instalments_outstanding} missed instalment(s) outstanding` : null,
      m.outstanding_balance !== undefined ? `outstanding ${money(m.outstanding_balance)}` : null,
      m.remedy_deadline ? `remedy by ${m.remedy_deadline}` : null, m.status ? `monitoring: ${words(m.status)}` : null].filter(Boolean).join(" · ")) : null,
    m && (m.near_breach || []).length ? h("p.warn", { id: "near-breach" }, (m.near_breach || []).map((w) =>
      `Near breach: instalment ${w.instalment} due ${w.due_date}, ${money(w.amount_paid)} of ${money(w.amount_due)} paid by ${w.checkpoint}`
      + ` (at least ${Math.round(Number(w.required_share) * 100)} % needed).`).join(" ")) : null,
    h("div.scroll", {}, table([
      { label: "#", value: (i) => i.number, num: true, width: "40px" },
      { label: "Due", value: (i) => i.due_date },
      { label: "Total", value: (i) => money(i.total), num: true },
      { label: "Paid", value: (i) => i.paid !== undefined ? money(i.paid) : (i.amount_paid !== undefined ? money(i.amount_paid) : "—"), num: true },
      { label: "Status", value: (i) => pill(statusOf(i)) },
      { label: "Settled", value: (i) => i.settled_on || "—" },
      { label: "Missed (detected)", value: (i) => i.missed_detected_on || "—" },
      { label: "Early warning", value: (i) => i.early_warning ? pill(i.early_warning) : "—" }], instalments,
      { rowClass: (i) => statusOf(i) === "missed" ? "missed" : (/^paid/.test(statusOf(i)) ? "paid" : null) })),
    m && m.status === "active" ? (state.role === "agent" ? payment : h("p.muted", {}, "Agents record manual payments.")) : null,
    m && (m.payments || []).length ? h("div", {}, h("h3", { style: "margin-top:10px" }, "Payments"), table([
      { label: "Reference", value: (p) => p.reference }, { label: "Amount", value: (p) => money(p.amount), num: true },
      { label: "Received", value: (p) => p.received_on }, { label: "Source", value: (p) => p.source }], m.payments)) : null,
    m && m.referral ? h("div.offer", {}, h("b", {}, "Legal referral "), pill(m.referral.route), ` on ${m.referral.referred_on}`, reasonsList(m.referral.reasons)) : null);
}

// the borrower's authorised representatives (intake's case view; names come masked but for supervisors);
// while one communicates for the borrower, staff log their contacts through it here
function representativesCard(ctx, act) {
  const reps = ctx.caseView.representatives || [];
  if (!reps.length) return null;
  const through = reps.filter((r) => r.communicates);
  const form = through.length ? h("form.inline", { id: "representative-contact-form", onsubmit: act("Contact recorded", () =>
      api("intake", `/cases/${encodeURIComponent(ctx.caseId)}/contacts`, "POST", {
        party: "representative", representative_id: $("#representative-contact-id").value,
        channel: $("#representative-contact-channel").value, local_time: $("#representative-contact-time").value })) },
    h("select", { id: "representative-contact-id", "aria-label": "representative" },
      through.map((r) => h("option", { value: r.representative_id }, `${r.representative_id} (${words(r.kind)})`))),
    h("select", { id: "representative-contact-channel", "aria-label": "channel" }, ["phone", "email", "branch", "portal"].map((c) => h("option", {}, c))),
    h("input", { id: "representative-contact-time", type: "time", required: true, "aria-label": "local time" }),
    h("button", { type: "submit" }, "Contact representative")) : null;
  return h("section.card", { id: "representatives" }, h("header", {}, h("h3", {}, "Representatives"), h("span.count", {}, String(reps.length))),
    h("div.scroll", {}, table([
      { label: "Id", value: (r) => r.representative_id },
      { label: "Kind", value: (r) => words(r.kind) }, { label: "Name", value: (r) => maskName(r.name) || "—" },
      { label: "Scope", value: (r) => r.scopes.map(words).join(", "), wrap: true },
      { label: "Valid", value: (r) => `${r.starts_on} – ${r.ends_on}` },
      { label: "Status", value: (r) => pill(r.revoked_on ? "revoked" : (r.active ? "active" : "inactive")) }], reps)),
    form);
}

function contactsCard(ctx, act) {
  const contacts = ctx.caseView.contacts || [];
  const now = new Date();
  const draft = `contact:${ctx.caseId}:`;
  const field = (name, el, initial) => drafted(draft + name, el, initial);
  const form = h("form.inline", { id: "contact-form", onsubmit: act("Contact recorded", async () => {
      const answer = await api("intake", `/cases/${encodeURIComponent(ctx.caseId)}/contacts`, "POST", {
        party: $("#contact-party").value, channel: $("#contact-channel").value, direction: $("#contact-direction").value,
        local_time: $("#contact-time").value, note: $("#contact-note").value.trim() || null });
      dropDrafts(draft);
      return answer;
    }) },
    field("party", h("select", { id: "contact-party", "aria-label": "party" }, ["borrower", "guarantor"].map((p) => h("option", {}, p))), "borrower"),
    field("channel", h("select", { id: "contact-channel", "aria-label": "channel" }, ["phone", "email", "branch", "portal"].map((p) => h("option", {}, p))), "phone"),
    field("direction", h("select", { id: "contact-direction", "aria-label": "direction" }, ["outbound", "inbound"].map((p) => h("option", {}, p))), "outbound"),
    field("time", h("input", { id: "contact-time", type: "time", required: true, "aria-label": "local time" }),
      `${String(now.getHours()).padStart(2, "0")}:${String(now.getMinutes()).padStart(2, "0")}`),
    field("note", h("input", { id: "contact-note", placeholder: "note (no personal data)", "aria-label": "note" })),
    h("button", { type: "submit" }, "Record contact"));
  return h("section.card", { id: "contacts" }, h("header", {}, h("h3", {}, "Communication log"), h("span.count", {}, String(contacts.length))),
    h("div.scroll", {}, table([
      { label: "Date", value: (c) => `${c.on} ${c.local_time}`, width: "30%" },
      { label: "Party", value: (c) => c.party }, { label: "Channel", value: (c) => `${c.channel} ${c.direction === "inbound" ? "in" : "out"}` },
      { label: "Outcome", value: (c) => h("span", {}, pill(c.outcome), c.refusal_reasons && c.refusal_reasons.length ? " " + c.refusal_reasons.map(words).join(", ") : "") , wrap: true }],
      contacts, { empty: "No contact logged." })), form);
}

function factsCard(ctx) {
  const cv = ctx.caseView;
  const loans = cv.loans || [];
  const st = cv.statement;
  const sum = (lines) => (lines || []).reduce((t, l) => t + Number(l.monthly_amount || 0), 0);
  return h("section.card", { id: "facts" }, h("h3", {}, "Loans and statement"),
    table([{ label: "Loan", value: (l) => l.loan_id }, { label: "Outstanding", value: (l) => money(l.outstanding_principal), num: true },
      { label: "Instalment", value: (l) => money(l.contractual_instalment), num: true }, { label: "DPD", value: (l) => l.days_past_due, num: true, width: "52px" }], loans),
    st ? h("dl.facts", { style: "margin-top:8px" },
      h("dt", {}, "Income"), h("dd", {}, money(sum(st.income))), h("dt", {}, "Essential expenditure"), h("dd", {}, money(sum(st.essential_expenditure))),
      h("dt", {}, "Other debt payments"), h("dd", {}, money(sum(st.other_debt_payments))), h("dt", {}, "Dependants"), h("dd", {}, st.dependants)) : h("p.empty", {}, "No income and expenditure statement."),
    cv.story ? h("p.muted", { style: "overflow-wrap:anywhere" }, h("b", {}, "Story: "), cv.story) : null);
}

function timelineCard(ctx) {
  // every event of the case, from every service, in the order it occurred (the read model's)
  const rm = ctx.readModel;
  const entries = rm ? rm.events : [];
  const body = !rm ? h("p.error", {}, `read model: ${ctx.readModelError ? ctx.readModelError.message : "unavailable"}`)
    : entries.length ? h("ol.timeline", {}, entries.map((e) => h("li", { dataset: { type: e.type } }, h("span", {}, e.business_date),
        h("span.kind", { title: e.producer }, e.type), h("span.what", {}, e.summary)))) : h("p.empty", {}, "Nothing yet.");
  return h("section.card", { id: "timeline" }, h("header", {}, h("h3", {}, "Timeline"),
    h("span.muted", {}, rm ? words(rm.queue) : ""),
    rm && (rm.near_breach || []).length ? h("span", { id: "timeline-near-breach" }, pill("near_breach")) : null,
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
  main.replaceChildren(...[
    h("h2", {}, `KPIs ${k.as_of ? "as of business date " + k.as_of : ""}`),
    lagLine(k.read_model),
    k.computed ? h("p.muted", { id: "kpis-computed" }, `Computed ${k.computed.at ? "at " + k.computed.at : "just now"}`
      + ` from ${k.computed.of_events} events (the console worker recomputes them within seconds of new events).`) : null,
    k.unavailable && k.unavailable.length ? h("p.error", {}, `Not available: ${k.unavailable.join("; ")}`) : null,
    h("div.tiles", {},
      tile(String(k.cases_opened), "cases opened"), tile(pct(k.approval_rate), "approval rate"),
      tile(pct(k.offer_acceptance_rate), "offer acceptance rate"), tile(String(k.active_agreements), "active agreements"),
      tile(String(k.agreements_near_breach ?? 0), "agreements near breach"),
      tile(pct(k.promise_kept_rate), "promise-kept rate"),
      tile(pct(cure.rate), "cure rate"), tile(pct(k.legal_referral_rate), "legal referral rate"),
      tile(ttfd.median_days === null || ttfd.median_days === undefined ? "—" : `${ttfd.median_days} d`, "median time to first decision")),
    h("div.grid", {},
      chartCard("kpi-funnel", "Funnel", barChart((k.funnel || []).map((f) => ({ label: f.stage, value: f.count })), { title: "funnel", left: 120 }),
        "Cases opened (intake) → submitted → decided (evaluation) → offer accepted, signed (agreement) → completed (monitoring)."),
      chartCard("kpi-cure", "Cure rate", h("div", { style: "display:flex;gap:20px;align-items:center;flex-wrap:wrap" }, donut(cure.rate, "cured / ever delinquent"),
        h("dl.facts", {}, h("dt", {}, "ever delinquent"), h("dd", {}, cure.delinquent), h("dt", {}, "cured"), h("dd", {}, cure.cured),
          h("dt", {}, "still in arrears"), h("dd", {}, cure.still_delinquent), h("dt", {}, "referred"), h("dd", {}, cure.referred))),
        "Agreements with a missed instalment that came back to current (monitoring)."),
      chartCard("kpi-breach", "Breach rate by months on plan", breach.length ? columnChart(breach.map((b) => ({ label: `m${b.month}`, value: b.rate || 0, note: b.breached ? `${b.breached}/${b.exposed}` : "" })),
        { title: "breach rate", max: Math.max(0.05, ...breach.map((b) => b.rate || 0)), format: pct, color: "#b3261e", xLabel: "month on plan" }) : h("p.empty", {}, "No agreement on plan yet."),
        "Share of agreements unbroken at the start of month m whose breach notice came in month m."),
      chartCard("kpi-roll", "DPD roll rates (month end to month end)", barChart(roll.map((r) => ({ label: `${r.from} → ${r.to}`, value: r.rate || 0, note: `${pct(r.rate)} (${r.rolled}/${r.observed})` })),
        { title: "roll rates", left: 120, color: "#b26a00" }), "From each DPD bucket, the share of agreements in a worse bucket a month later (schedule and settlements from monitoring)."),
      chartCard("kpi-ttfd", "Time to first decision", columnChart((ttfd.histogram || []).map((b) => ({ label: b.label, value: b.count, note: b.count ? String(b.count) : "" })),
        { title: "time to first decision", xLabel: "days of business date" }), `${ttfd.decided || 0} decided cases; median ${ttfd.median_days ?? "—"} d, 90th percentile ${ttfd.p90_days ?? "—"} d (intake opened_on → evaluation decided_on).`),
      chartCard("kpi-cases", "Cases by hardship", barChart(Object.entries(k.cases_by_hardship || {}).map(([label, value]) => ({ label: words(label), value })), { title: "cases by hardship", left: 130 }),
        `By channel: ${Object.entries(k.cases_by_channel || {}).map(([c, n]) => `${c} ${n}`).join(", ") || "—"}`),
      chartCard("kpi-levels", "Active agreements by escalation level", barChart(Object.entries(k.active_by_level || {}).map(([label, value]) => ({ label: words(label), value })), { title: "by level", left: 130 }),
        `Notices sent: ${Object.entries(k.notices_by_level || {}).map(([c, n]) => `${words(c)} ${n}`).join(", ") || "none"}`))].filter(Boolean));
}

// -- wiring ---------------------------------------------------------------------------------------
$("#logout").addEventListener("click", logout);
$("#case-search").addEventListener("submit", (e) => { e.preventDefault(); const id = $("#case-search-input").value.trim(); if (id) location.hash = `#/case/${encodeURIComponent(id)}`; });
$("#cob-button").addEventListener("click", async () => {
  try { const r = await api("monitoring", "/business-date/advance", "POST", {}); flash(`Close of business: business date now ${r.business_date}`); refreshBusinessDate(); route(); }
  catch (e) { flash(`Close of business failed: ${e.message}`, true); }
});
window.addEventListener("hashchange", route);
(async function boot() {
  try {
    const who = await call("GET", "/auth/session");
    Object.assign(state, { session: Date.now(), user: who.username, role: who.role });
    start();
  } catch (_) { showLogin(); }
})();
