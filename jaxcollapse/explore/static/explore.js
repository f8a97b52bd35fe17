// jaxcollapse explore: the page places what the server sends (pictures, tick positions, SVG paths);
// every number is computed by the library on the server.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {};          // the settings as the server last accepted them (strings)
let lastGood = {};         // ... and a copy, restored when the server refuses a field
let version = null;        // the diagram on screen
let inflight = false, pending = null, spinnerTimer = null;
let cursor = { fx: 0.5, fy: 0.5, pinned: false };
let curveInflight = false, curvePending = false;
let notice = "";           // a message to show with the next picture
// the session token of the address the server printed: every API call carries it, and the address
// keeps it, so that a copied link still opens this server's page
const token = new URLSearchParams(location.search).get("token") || "";
const pageId = Math.random().toString(36).slice(2) + Date.now().toString(36);  // this page's queue slot

function api(path, options) {
  const headers = { "X-Explore-Token": token, "X-Explore-Page": pageId, ...((options || {}).headers || {}) };
  return fetch(path, { ...(options || {}), headers });
}

function address(params) {
  return `?${new URLSearchParams({ token, ...Object.fromEntries(new URLSearchParams(params)) })}`;
}

// for tests and benchmarks: what the page has shown
window.explore = { pictures: 0, latencies: [], server: [], errors: 0, version: null, curves: 0, busy: true };

function setTicks(box, ticks, vertical) {
  box.replaceChildren(...ticks.map((t) => {
    const el = document.createElement("span");
    el.className = "tick";
    el.textContent = t.label;
    el.style[vertical ? "top" : "left"] = `${100 * t.pos}%`;
    return el;
  }));
}

function buildControls(controls) {
  const box = $("inputs");
  for (const c of controls) {
    const wrap = document.createElement("div");
    wrap.className = "control";
    wrap.id = `control-${c.name}`;
    const label = document.createElement("label");
    label.textContent = c.label;
    wrap.append(label);
    state[c.name] = String(c.value);
    if (c.kind === "select") {
      const sel = document.createElement("select");
      sel.id = `input-${c.name}`;
      for (const choice of c.choices) sel.append(new Option(choice.replace("_", " "), choice));
      sel.value = c.value;
      sel.addEventListener("change", () => { state[c.name] = sel.value; showDependents(); request(); });
      wrap.append(sel);
    } else {
      const range = document.createElement("input");
      range.type = "range";
      range.id = `slider-${c.name}`;
      range.min = 0; range.max = c.stops.length - 1; range.step = 1;
      range.value = c.index;
      const text = document.createElement("input");
      text.type = "text";
      text.id = `input-${c.name}`;
      text.value = String(c.value);
      range.addEventListener("input", () => {
        const v = String(c.stops[Number(range.value)]);
        text.value = v; text.classList.remove("bad");
        state[c.name] = v;
        request();
      });
      text.addEventListener("change", () => { state[c.name] = text.value.trim(); request(c.name); });
      wrap.append(range, text);
    }
    box.append(wrap);
  }
  showDependents();
}

function showDependents() {
  const off = {
    activation: state.model !== "random_features",
    d_over_n: state.model === "ridge",
    beta: state.spectrum !== "power_law",
  };
  for (const [name, disabled] of Object.entries(off)) {
    $(`control-${name}`).classList.toggle("off", disabled);
  }
}

function decoded(img, src) {
  const pre = new Image();
  pre.src = src;
  return pre.decode().then(() => { img.src = src; });
}

async function request(field, started = performance.now()) {
  if (inflight) {  // one picture at a time; the latest settings win
    pending = pending || { started, field };
    if (field) pending.field = field;
    return;
  }
  inflight = true;
  window.explore.busy = true;
  clearTimeout(spinnerTimer);
  spinnerTimer = setTimeout(() => { $("spinner").hidden = false; }, 250);
  try {
    const sent = { ...state };  // the settings of this picture (moves made meanwhile go to `pending`)
    const params = new URLSearchParams(sent).toString();
    const response = await api(`/api/picture?${params}`);
    const body = await response.json();
    if (response.status === 409 || response.status === 429) {
      $("message").textContent = body.error;  // replaced or turned away: the settings were fine
    } else if (!response.ok) {
      refuse(body.error, field);
    } else {
      await show(body);
      if (field && field in body.positions) $(`slider-${field}`).value = body.positions[field];
      lastGood = sent;
      history.replaceState(null, "", address(params));  // the address is a link to this view
      $("message").textContent = notice;  // empty, but for a refused link's reason on the first picture
      notice = "";
      showSettings(sent);
      await new Promise((resolve) => requestAnimationFrame(() => resolve()));
      window.explore.latencies.push(performance.now() - started);
      window.explore.server.push([body.compute_ms, body.render_ms]);
    }
  } catch (err) {
    refuse(`the server did not answer (${err})`, field);
  } finally {
    clearTimeout(spinnerTimer);
    $("spinner").hidden = true;
    inflight = false;
    if (pending) {
      const next = pending;
      pending = null;
      request(next.field, next.started);  // its latency counts from the move, not from its turn
    } else {
      window.explore.busy = false;
    }
  }
}

// Every field shows the value the picture on screen was computed with: a refused entry is replaced
// by the value in use (and loses its mark) once a picture arrives; a field being typed in (focused,
// not yet refused, its text not yet sent) is left alone.
function showSettings(sent) {
  for (const [name, value] of Object.entries(sent)) {
    const el = $(`input-${name}`);
    if (!el) continue;
    const typing = el === document.activeElement && !el.classList.contains("bad") && el.value.trim() !== value;
    if (typing) continue;
    el.value = value;
    el.classList.remove("bad");
  }
}

// One style for the curves (the server's, which the saved figure uses too) and the axis titles
function applyStyle(style, labels) {
  for (const [name, s] of Object.entries(style)) {
    const path = $(`path-${name}`);
    path.style.stroke = s.color;
    path.style.strokeDasharray = s.dash ? s.dash.join(" ") : "none";
    const key = document.querySelector(`.curve-legend .${name}`);
    key.style.color = s.color;
    key.textContent = s.label;
  }
  $("y-label").textContent = labels.p2;
  $("colorbar-label").textContent = labels.ratio;
  $("curve-y-label").textContent = labels.error;
}

function refuse(message, field) {
  window.explore.errors += 1;
  $("message").textContent = message;
  if (field) $(`input-${field}`).classList.add("bad");
  // the picture stays; the next move starts from the last good value (moves made meanwhile are kept)
  if (field) state[field] = lastGood[field];
  else Object.assign(state, lastGood);
}

async function show(p) {
  await Promise.all([decoded($("heat"), p.heat), decoded($("overlay"), p.overlay), decoded($("colorbar"), p.colorbar)]);
  version = p.version;
  setTicks($("x-axis"), p.x_ticks, false);
  setTicks($("y-axis"), p.y_ticks, true);
  setTicks($("colorbar-ticks"), p.colorbar_ticks, true);
  $("threshold").style.left = `${100 * p.threshold}%`;
  $("threshold-label").textContent = p.threshold_label;
  $("x-label").textContent = p.x_label;
  $("slope-label").textContent = p.slope_label;
  $("title").textContent = p.title;
  $("largest").textContent = p.largest_ratio;
  $("hurt-share").textContent = p.hurt_share;
  $("hurt-below").textContent = p.hurt_share_below;
  $("problems").textContent = p.problems.join("; ");
  window.explore.pictures += 1;
  window.explore.version = version;
  window.explore.hurt_share = p.hurt_share;
  curve();
}

function along() {
  return document.querySelector("input[name=along]:checked").value;
}

async function curve() {
  if (version === null) return;
  if (curveInflight) { curvePending = true; return; }
  curveInflight = true;
  try {
    const response = await api(`/api/curve?${new URLSearchParams({ version, fx: cursor.fx, fy: cursor.fy, along: along() })}`);
    if (response.ok) showCurve(await response.json());
  } finally {
    curveInflight = false;
    if (curvePending) { curvePending = false; curve(); }
  }
}

function showCurve(c) {
  $("curve-title").textContent = c.title;
  $("curve-x-label").textContent = c.x_label;
  for (const [name, d] of Object.entries(c.paths)) $(`path-${name}`).setAttribute("d", d);
  setTicks($("curve-x"), c.x_ticks, false);
  setTicks($("curve-y"), c.y_ticks.map((t) => ({ pos: 1 - t.pos, label: t.label })), true);
  $("curve-marker").style.left = `${100 * c.marker}%`;
  const threshold = $("curve-threshold");
  threshold.hidden = c.threshold === null;
  if (c.threshold !== null) threshold.style.left = `${100 * c.threshold}%`;
  $("readout").replaceChildren(...c.readout.map(([label, value]) => {
    const row = document.createElement("tr");
    for (const text of [label, value]) row.insertCell().textContent = text;
    return row;
  }));
  window.explore.curves += 1;
  window.explore.point = c.point;
}

function place(event) {
  const box = $("diagram").getBoundingClientRect();
  const fx = Math.min(Math.max((event.clientX - box.left) / box.width, 0), 1);
  const fy = Math.min(Math.max((event.clientY - box.top) / box.height, 0), 1);
  return { fx, fy };
}

function moveCursor(fx, fy) {
  cursor.fx = fx; cursor.fy = fy;
  $("cross-x").style.left = `${100 * fx}%`;
  $("cross-y").style.top = `${100 * fy}%`;
  curve();
}

async function save() {
  $("saved").textContent = "saving…";
  const extra = window.explore.point ? { p2_row: window.explore.point.p2 } : {};
  const response = await api("/api/save", {  // the settings travel in the body
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ ...state, ...extra }),
  });
  const body = await response.json();
  if (response.ok) {
    $("saved").textContent = `saved to ${body.folder}/ (${body.files.join(", ")})`;
    window.explore.saved = body;
  } else {
    $("saved").textContent = "";
    $("message").textContent = body.error;
  }
}

async function start() {
  const shared = new URLSearchParams(location.search);
  shared.delete("token");
  const response = await api(`/api/controls?${shared}`);  // a shared link's settings
  if (!response.ok) {  // no token, or a wrong one: the server answers only its own page
    $("title").textContent = "";
    $("message").textContent = `${await response.text()}`;
    return;
  }
  const body = await response.json();
  buildControls(body.controls);
  applyStyle(body.curve_style, body.labels);
  if (body.error) notice = `${body.error} (the defaults are shown)`;
  lastGood = { ...state };
  $("diagram").addEventListener("mousemove", (e) => { if (!cursor.pinned) { const p = place(e); moveCursor(p.fx, p.fy); } });
  $("diagram").addEventListener("click", (e) => { cursor.pinned = !cursor.pinned; const p = place(e); moveCursor(p.fx, p.fy); });
  document.querySelectorAll("input[name=along]").forEach((el) => el.addEventListener("change", curve));
  $("save").addEventListener("click", save);
  moveCursor(0.5, 0.5);
  request();
}

start();
