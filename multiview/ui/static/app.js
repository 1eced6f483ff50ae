// multiview workbench: plain JavaScript, no build step, no outside addresses.
"use strict";

const PREVIEW = 1024;   // longer side of the large view's preview
const PREVIEW_HI = 2048; // loaded once the user zooms in (the server caps it at the working size)
const THUMB = 192;      // longer side of the thumbnails
const $ = (s) => document.querySelector(s);

const mv = {
  state: null, review: null, view: null, obj: null, rev: 0,
  zoom: { s: 1, tx: 0, ty: 0 }, overlayRev: "", side: PREVIEW,
};
window.mv = mv;

// ------------------------------------------------------------------ helpers
async function api(method, url, body) {
  const opt = { method, headers: {} };
  if (method !== "GET") { opt.body = JSON.stringify(body === undefined ? {} : body); opt.headers["Content-Type"] = "application/json"; }
  const r = await fetch(url, opt);
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  if (!r.ok) {
    const err = new Error((data && data.error) || `${r.status} ${r.statusText}`);
    err.hint = (data && data.hint) || null;  // {field, action, command, option}: what fixes it
    throw err;
  }
  return data;
}
// An error's hint as a page control: a button for an action the page has, else the command to run.
const HINT_ACTIONS = { track: "#btn-propagate" };
function hintNode(hint) {
  if (!hint) return null;
  const target = hint.action && HINT_ACTIONS[hint.action] && $(HINT_ACTIONS[hint.action]);
  if (target) return el("button", { class: "hint", onclick: () => target.click(), text: target.textContent });
  if (hint.command) return el("code", { class: "hint", text: hint.command });
  return null;
}
// Highlight the form fields that fix an error (data-field="overwrite" etc.).
function markFields(hint) {
  document.querySelectorAll(".hinted").forEach((e) => e.classList.remove("hinted"));
  if (hint && hint.field) document.querySelectorAll(`[data-field="${hint.field}"]`).forEach((e) => e.classList.add("hinted"));
}
function toast(msg, error, hint) {
  const t = $("#toast");
  t.textContent = msg; t.className = "show" + (error ? " error" : "");
  const h = hintNode(hint);
  if (h) t.append(" ", h);
  markFields(hint);
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.className = ""; }, error ? 8000 : 3000);
}
function showError(e) { toast(e.message, true, e.hint); }
function busy(on) { $("#busy").hidden = !on; }
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k);
  return e;
}
const enc = encodeURIComponent;
function viewById(id) { return mv.state.views.find((v) => v.id === id); }
function objById(id) { return mv.state.objects.find((o) => o.id === id); }

// ------------------------------------------------------------------ state
async function loadState() {
  mv.state = await api("GET", "/api/state");
  mv.rev++;
  $("#project-name").textContent = mv.state.project;
  $("#engine").textContent = mv.state.engine.note;
  if (!mv.obj || !objById(mv.obj)) mv.obj = mv.state.objects.length ? mv.state.objects[0].id : null;
  if (!mv.view || !viewById(mv.view)) {
    const ref = mv.state.views.find((v) => v.reference) || mv.state.views[0];
    mv.view = ref.id;
    openView(mv.view);
  }
  renderObjects(); renderStrip(); renderPrompts(); refreshOverlay(); showJob(mv.state.job);
  loadReview();
}
let stateTimer = null;
function scheduleState() { clearTimeout(stateTimer); stateTimer = setTimeout(() => loadState().catch((e) => showError(e)), 150); }

async function loadReview() {
  const hasResults = mv.state.views.some((v) => Object.keys(v.results).length);
  mv.review = hasResults ? await api("GET", "/api/review") : { drifted: [], views_to_correct: [] };
  renderDrift(); renderStrip();
}

function viewStates(v) {
  const s = [];
  if (mv.review && mv.review.views_to_correct.includes(v.id)) s.push("drifted");
  if (v.prompted.length) s.push("prompted");
  if (Object.keys(v.results).length) s.push("tracked");
  if (Object.values(v.results).some((r) => r.damaged)) s.push("damaged");
  if (v.registration === "unregistered") s.push("unregistered");
  return s;
}

// ------------------------------------------------------------------ objects
function renderObjects() {
  const ul = $("#objects"); ul.replaceChildren();
  for (const o of mv.state.objects) {
    const li = el("li", { "data-obj": o.id, class: o.id === mv.obj ? "active" : "" });
    li.append(
      el("input", { type: "radio", name: "obj", title: "draw on this object", onchange: () => { mv.obj = o.id; renderObjects(); } }),
      el("input", { type: "color", value: o.color, title: "colour", class: "obj-color",
        onchange: (e) => editObject(o.id, { color: e.target.value }) }),
      el("input", { type: "text", value: o.name, title: "name", class: "obj-name",
        onchange: (e) => editObject(o.id, { name: e.target.value }) }),
      el("button", { title: "delete object, its prompts and masks", class: "obj-del", text: "✕",
        onclick: () => deleteObject(o) }),
    );
    li.querySelector("input[type=radio]").checked = o.id === mv.obj;
    li.addEventListener("click", (e) => { if (e.target.tagName === "LI") { mv.obj = o.id; renderObjects(); } });
    ul.append(li);
  }
}
async function addObject() {
  try { const o = await api("POST", "/api/objects", {}); mv.obj = o.id; await loadState(); }
  catch (e) { showError(e); }
}
async function editObject(id, change) {
  try { await api("PATCH", `/api/objects/${id}`, change); await loadState(); }
  catch (e) { showError(e); await loadState(); }
}
async function deleteObject(o) {
  if (!confirm(`Delete object ${o.id} "${o.name}" with its prompts and masks?`)) return;
  try { await api("DELETE", `/api/objects/${o.id}`); await loadState(); } catch (e) { showError(e); }
}

// ------------------------------------------------------------------ strip of thumbnails
function renderStrip() {
  const strip = $("#strip");
  for (const v of mv.state.views) {
    let t = strip.querySelector(`.thumb[data-view="${CSS.escape(v.id)}"]`);
    if (!t) {
      t = el("div", { class: "thumb", "data-view": v.id, title: v.id, onclick: () => openView(v.id) },
        el("div", { class: "pic" },
          el("img", { class: "ph", src: `/api/views/${enc(v.id)}/preview?size=${THUMB}`, alt: v.id }),
          el("img", { class: "ov", alt: "" })),
        el("div", { class: "cap" }, el("span", { class: "name" }), el("span", { class: "badge" })));
      strip.append(t);
    }
    const st = viewStates(v);
    t.className = "thumb" + (v.id === mv.view ? " current" : "") + (st.length ? " state-" + st[0] : "");
    t.dataset.states = st.join(" ");
    t.querySelector(".name").textContent = `#${v.index} ${v.stem}${v.reference ? " *" : ""}`;
    t.querySelector(".badge").textContent = st.length ? st.join(", ") : "—";
    const key = JSON.stringify([v.results, mv.state.objects]);
    if (t.dataset.key !== key) {
      t.dataset.key = key;
      t.querySelector(".ov").src = `/api/views/${enc(v.id)}/overlay?size=${THUMB}&r=${Date.now()}`;
    }
  }
}
function refreshThumb(viewId) {
  const t = $("#strip").querySelector(`.thumb[data-view="${CSS.escape(viewId)}"]`);
  if (t) t.querySelector(".ov").src = `/api/views/${enc(viewId)}/overlay?size=${THUMB}&r=${Date.now()}`;
}

// ------------------------------------------------------------------ large view
function openView(id) {
  const v = viewById(id);
  mv.view = id;
  const s = Math.min(1, PREVIEW / Math.max(v.width, v.height));
  const w = Math.round(v.width * s), h = Math.round(v.height * s);
  const wrap = $("#wrap");
  wrap.style.width = w + "px"; wrap.style.height = h + "px";
  mv.side = PREVIEW;
  $("#photo").src = `/api/views/${enc(id)}/preview?size=${PREVIEW}`;
  $("#marks").setAttribute("viewBox", `0 0 ${v.width} ${v.height}`);
  $("#view-title").textContent = `#${v.index} ${v.id} · ${v.width}×${v.height}` +
    (v.reference ? " · reference" : "") + (v.registration === "unregistered" ? ` · unregistered (${v.registration_reason || ""})` : "") +
    (v.occluded_share ? ` · ${Math.round(100 * v.occluded_share)}% of the wall hidden (hatched)` : "");
  fit();
  mv.overlayRev = "";
  refreshOverlay(true); renderPrompts(); renderStrip();
}
function fit() {
  const st = $("#stage").getBoundingClientRect(), wrap = $("#wrap");
  const w = parseFloat(wrap.style.width), h = parseFloat(wrap.style.height);
  const s = Math.min(st.width / w, st.height / h) * 0.98;
  mv.zoom = { s, tx: (st.width - w * s) / 2, ty: (st.height - h * s) / 2 };
  applyZoom();
}
function applyZoom() {
  const z = mv.zoom;
  $("#wrap").style.transform = `translate(${z.tx}px, ${z.ty}px) scale(${z.s})`;
  if (z.s > 1.3 && mv.side === PREVIEW && mv.view) {  // zoomed in: sharper preview and overlay
    mv.side = PREVIEW_HI;
    $("#photo").src = `/api/views/${enc(mv.view)}/preview?size=${PREVIEW_HI}`;
    refreshOverlay(true);
  }
}
function refreshOverlay(force) {
  if (!mv.state || !mv.view) return;
  const v = viewById(mv.view);
  const key = JSON.stringify([v.results, mv.state.objects]);
  if (!force && key === mv.overlayRev) return;
  mv.overlayRev = key;
  const img = $("#overlay");
  img.dataset.loaded = "0";
  img.onload = () => { img.dataset.loaded = "1"; };
  img.src = `/api/views/${enc(mv.view)}/overlay?size=${mv.side}&r=${Date.now()}`;
  refreshOcclusion();
}
// The hatched layer of what stands in front of the wall (scaffolding, a beam, a person).
function refreshOcclusion() {
  const img = $("#occlusion");
  const on = $("#show-occluders").checked;
  img.classList.toggle("off", !on);
  if (on && mv.view) img.src = `/api/views/${enc(mv.view)}/occlusion?size=${mv.side}&r=${mv.rev}`;
}
// Share of overlay pixels that show a mask (the tests use it to see the mask).
mv.overlayCoverage = function (selector) {
  const img = document.querySelector(selector || "#overlay");
  if (!img.complete || !img.naturalWidth) return 0;
  const c = document.createElement("canvas"); c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext("2d"); g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
  return n / (c.width * c.height);
};

function renderPrompts() {
  if (!mv.state) return;
  const v = viewById(mv.view);
  const svg = $("#marks"); svg.replaceChildren();
  const ul = $("#prompts"); ul.replaceChildren();
  const r = Math.max(v.width, v.height) / 120;
  const NS = "http://www.w3.org/2000/svg";
  for (const p of mv.state.prompts.filter((q) => q.view === v.id)) {
    const o = objById(p.obj_id); const col = o ? o.color : "#fff";
    if (p.box) {
      const b = document.createElementNS(NS, "rect");
      b.setAttribute("x", p.box[0]); b.setAttribute("y", p.box[1]);
      b.setAttribute("width", p.box[2] - p.box[0]); b.setAttribute("height", p.box[3] - p.box[1]);
      b.setAttribute("fill", "none"); b.setAttribute("stroke", col); b.setAttribute("stroke-width", r / 3);
      svg.append(b);
    }
    for (const [x, y, lab] of p.points) {
      const c = document.createElementNS(NS, "circle");
      c.setAttribute("cx", x); c.setAttribute("cy", y); c.setAttribute("r", r);
      c.setAttribute("fill", lab ? "#2ecc40" : "#ff4136"); c.setAttribute("stroke", "#fff"); c.setAttribute("stroke-width", r / 4);
      c.setAttribute("class", lab ? "pos" : "neg");
      svg.append(c);
    }
    const kind = [p.points.length ? `${p.points.filter((q) => q[2]).length}+/${p.points.filter((q) => !q[2]).length}-` : "",
      p.box ? "box" : "", p.mask ? "mask" : ""].filter(Boolean).join(" ");
    ul.append(el("li", { "data-prompt": p.id },
      el("span", { text: `#${p.id} ${o ? o.name : p.obj_id}: ${kind}${p.candidate != null ? ` (candidate ${p.candidate})` : ""}` }),
      el("button", { text: "✕", title: "remove this prompt", onclick: () => removePrompt(p.id) })));
  }
}
async function removePrompt(id) {
  try { busy(true); await api("DELETE", `/api/prompts/${id}`); await loadState(); refreshOverlay(true); }
  catch (e) { showError(e); } finally { busy(false); }
}

// ------------------------------------------------------------------ mouse on the large view
function toPhoto(ev) {
  const v = viewById(mv.view), r = $("#photo").getBoundingClientRect();
  return [(ev.clientX - r.left) / r.width * v.width, (ev.clientY - r.top) / r.height * v.height];
}
function inside(p) { const v = viewById(mv.view); return p[0] >= 0 && p[1] >= 0 && p[0] < v.width && p[1] < v.height; }
let drag = null;
function onDown(ev) {
  if (ev.button === 1 || (ev.button === 0 && ev.ctrlKey)) {
    drag = { pan: true, x: ev.clientX, y: ev.clientY, tx: mv.zoom.tx, ty: mv.zoom.ty }; ev.preventDefault(); return;
  }
  if (ev.button === 0) drag = { pan: false, x: ev.clientX, y: ev.clientY, p0: toPhoto(ev), neg: ev.shiftKey || ev.altKey };
}
function onMove(ev) {
  if (!drag) return;
  if (drag.pan) { mv.zoom.tx = drag.tx + ev.clientX - drag.x; mv.zoom.ty = drag.ty + ev.clientY - drag.y; applyZoom(); return; }
  const rb = $("#rubber"), st = $("#stage").getBoundingClientRect();
  if (Math.hypot(ev.clientX - drag.x, ev.clientY - drag.y) > 5) {
    rb.style.display = "block";
    rb.style.left = Math.min(drag.x, ev.clientX) - st.left + "px"; rb.style.top = Math.min(drag.y, ev.clientY) - st.top + "px";
    rb.style.width = Math.abs(ev.clientX - drag.x) + "px"; rb.style.height = Math.abs(ev.clientY - drag.y) + "px";
  }
}
function onUp(ev) {
  if (!drag) return;
  const d = drag; drag = null; $("#rubber").style.display = "none";
  if (d.pan) return;
  if (Math.hypot(ev.clientX - d.x, ev.clientY - d.y) > 5) {
    const v = viewById(mv.view), p1 = toPhoto(ev);
    const clamp = (a, m) => Math.max(0, Math.min(m, a));
    const box = [clamp(Math.min(d.p0[0], p1[0]), v.width), clamp(Math.min(d.p0[1], p1[1]), v.height),
      clamp(Math.max(d.p0[0], p1[0]), v.width), clamp(Math.max(d.p0[1], p1[1]), v.height)];
    if (box[2] - box[0] < 2 || box[3] - box[1] < 2) return;
    prompt({ points: [], labels: [], box });
  } else if (inside(d.p0)) {
    click(d.p0, d.neg ? 0 : 1);
  }
}
function onContext(ev) { ev.preventDefault(); const p = toPhoto(ev); if (inside(p)) click(p, 0); }
function onWheel(ev) {
  ev.preventDefault();
  const st = $("#stage").getBoundingClientRect(), z = mv.zoom;
  const f = Math.exp(-ev.deltaY * 0.0015), s = Math.max(0.05, Math.min(40, z.s * f));
  const mx = ev.clientX - st.left, my = ev.clientY - st.top;
  z.tx = mx - (mx - z.tx) * (s / z.s); z.ty = my - (my - z.ty) * (s / z.s); z.s = s; applyZoom();
}

async function ensureObject() {
  if (mv.obj) return mv.obj;
  const o = await api("POST", "/api/objects", {}); mv.obj = o.id; await loadState(); return o.id;
}
async function click(p, label) {
  const pt = [Math.round(p[0] * 10) / 10, Math.round(p[1] * 10) / 10];
  try {
    const obj = await ensureObject();
    const first = !mv.state.prompts.some((q) => q.obj_id === obj);
    if (first && label === 1 && mv.state.engine.name === "sam2") return showCandidates(pt, obj);
    await prompt({ points: [pt], labels: [label] });
  } catch (e) { showError(e); }
}
async function prompt(body) {
  try {
    busy(true);
    const obj = await ensureObject();
    await api("POST", "/api/prompts", { view: mv.view, obj_id: obj, ...body });
    await loadState(); refreshOverlay(true);
  } catch (e) { showError(e); } finally { busy(false); }
}

// ------------------------------------------------------------------ candidates of a first click
async function showCandidates(pt, obj) {
  busy(true);
  let data;
  try { data = await api("POST", "/api/candidates", { view: mv.view, x: pt[0], y: pt[1], obj_id: obj, size: 512 }); }
  catch (e) { busy(false); showError(e); return; }
  busy(false);
  const list = $("#cand-list"); list.replaceChildren();
  for (const c of data.candidates) {
    const div = el("div", { class: "cand" + (c.best ? " best" : ""), "data-index": c.index,
      onclick: async () => { $("#candidates").hidden = true; await prompt({ points: [pt], labels: [1], candidate: c.index }); } },
      el("img", { src: `/api/views/${enc(mv.view)}/preview?size=512`, alt: "" }),
      el("img", { class: "layer", src: c.overlay, alt: `candidate ${c.index}` }),
      el("div", { class: "label", text: `candidate ${c.index}: score ${c.score.toFixed(3)}${c.best ? " (best)" : ""}` }));
    list.append(div);
  }
  $("#candidates").hidden = false;
}

// ------------------------------------------------------------------ tracking job
function showJob(job) {
  const running = job.state === "running";
  $("#btn-cancel").disabled = !running;
  $("#btn-propagate").disabled = running;
  const pr = $("#progress");
  pr.max = Math.max(1, job.total || 1); pr.value = job.state === "done" ? pr.max : job.done;
  $("#job-msg").textContent = job.state === "idle" ? "" : `${job.state}: ${job.message}`;
  const h = job.state === "failed" ? hintNode(job.hint) : null;
  if (h) $("#job-msg").append(" ", h);
  document.body.dataset.job = job.state;
}
async function propagate() {
  try { const job = await api("POST", "/api/track", { full: $("#full").checked }); showJob(job); }
  catch (e) { showError(e); }
}
async function cancelJob() { try { await api("POST", "/api/track/cancel"); } catch (e) { showError(e); } }

function listen() {
  const es = new EventSource("/api/events");
  es.onmessage = (m) => {
    const e = JSON.parse(m.data);
    if (e.type === "job") {
      showJob(e.job);
      if (e.job.state !== "running") scheduleState();
    } else if (e.type === "result") {
      refreshThumb(e.view);
      if (e.view === mv.view) { mv.overlayRev = ""; refreshOverlay(true); }
    } else if (e.type === "state") scheduleState();
  };
}

// ------------------------------------------------------------------ drift
function renderDrift() {
  const ul = $("#drift-list"); ul.replaceChildren();
  if (!mv.review || !mv.review.drifted.length) { ul.append(el("li", { text: "none" })); return; }
  for (const r of mv.review.drifted) {
    const o = objById(r.obj_id);
    ul.append(el("li", { "data-view": r.view, "data-obj": r.obj_id, title: r.reasons.join("; "),
      onclick: () => { mv.obj = r.obj_id; renderObjects(); openView(r.view); } },
      el("span", { class: "sev", text: r.severity.toFixed(2) }),
      el("span", { text: `#${r.index} ${r.view} · ${o ? o.name : r.obj_id}: ${r.reasons.join("; ")}` })));
  }
}

// ------------------------------------------------------------------ export
function openExport() { $("#export-result").textContent = ""; $("#export-dialog").showModal(); }
async function doExport(ev) {
  ev.preventDefault();
  const formats = [...document.querySelectorAll("#export-formats input:checked")].map((i) => i.value);
  const path = $("#export-path").value.trim();
  const body = { formats, keep: $("#export-keep").value, masks: $("#export-masks").value };
  if ($("#export-beside").checked) body.beside_photos = true;
  else {
    body.overwrite = $("#export-overwrite").checked;
    if (path) body.path = path; else body.name = $("#export-name").value.trim();
  }
  const out = $("#export-result");
  out.textContent = "exporting…";
  try {
    const r = await api("POST", "/api/export", body);
    out.textContent = `written to ${r.out}: ` + Object.entries(r.files).map(([k, n]) => `${k} ${n} file(s)`).join(", ");
    out.dataset.ok = "1";
  } catch (e) {
    out.textContent = e.message; out.dataset.ok = "0";
    const h = hintNode(e.hint);
    if (h) out.append(" ", h);
    markFields(e.hint);
  }
}

// ------------------------------------------------------------------ start
function start() {
  const stage = $("#stage");
  stage.addEventListener("mousedown", onDown);
  window.addEventListener("mousemove", onMove);
  window.addEventListener("mouseup", onUp);
  stage.addEventListener("contextmenu", onContext);
  stage.addEventListener("wheel", onWheel, { passive: false });
  window.addEventListener("keydown", (e) => {
    if (e.target.tagName === "INPUT") return;
    if (e.key === "f") fit();
    if (e.key === "Escape") $("#candidates").hidden = true;
  });
  $("#btn-add-object").addEventListener("click", addObject);
  $("#btn-propagate").addEventListener("click", propagate);
  $("#btn-cancel").addEventListener("click", cancelJob);
  $("#btn-export").addEventListener("click", openExport);
  $("#show-occluders").addEventListener("change", refreshOcclusion);
  $("#export-go").addEventListener("click", doExport);
  $("#cand-cancel").addEventListener("click", () => { $("#candidates").hidden = true; });
  new ResizeObserver(() => { if (mv.view) fit(); }).observe(stage);
  window.addEventListener("focus", scheduleState);
  loadState().then(() => { document.body.dataset.ready = "1"; }).catch((e) => showError(e));
  listen();
}
start();
