// Segue studio page: plain JS, no build step. Talks to the REST API and one WebSocket per session
// (protocol in docs/studio.md). Audio frames are scheduled back to back as AudioBufferSourceNodes
// behind a small jitter buffer; events and status are shown when the audio they describe is heard.
"use strict";

const $ = (id) => document.getElementById(id);
const JITTER_S = 0.2;           // how far ahead of "now" the first frame is scheduled
const ROLL_SECONDS = 8;         // the piano roll shows this much music after the playhead
const LAYER_COLOURS = ["#e0a84a", "#6cc08b", "#6aa6e0", "#d07ad8", "#e0605a", "#56c7c0", "#c9c27a", "#a0a0ff",
                       "#ff9f80", "#8fd16a", "#f0c0e0", "#b0b0b0", "#70e0a0", "#e0e070", "#a0c0ff", "#ffb070"];
const tokenQuery = new URLSearchParams(location.search).get("token");

const studio = {
  session: null, ws: null, ctx: null, gain: null, playAt: 0, anchor: null, generation: 0,
  sampleRate: 44100, bars: new Map(), layers: [], controls: null, frames: 0, pageUnderruns: 0,
  squares: [], dragging: new Set(), lastSent: new Map(), validateTimer: null,
};

// ------------------------------------------------------------------ REST
async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) { init.headers["content-type"] = "application/json"; init.body = JSON.stringify(body); }
  const response = await fetch(path, init);
  let data = null;
  try { data = await response.json(); } catch (_) { /* 204 or not JSON */ }
  return { ok: response.ok, status: response.status, data };
}

function log(text, kind) {
  const li = document.createElement("li");
  li.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  if (kind) li.className = kind;
  $("log").prepend(li);
  while ($("log").children.length > 40) $("log").lastChild.remove();
}

// ------------------------------------------------------------------ examples and editor
async function loadExamples() {
  const r = await api("GET", "/api/examples");
  if (!r.ok) { log(`cannot list the scores: ${r.data && r.data.error}`, "error"); return; }
  const select = $("example");
  select.innerHTML = "";
  for (const ex of r.data.examples) {
    const option = document.createElement("option");
    option.value = ex.name; option.textContent = ex.title && ex.title !== ex.name ? `${ex.title} (${ex.name})` : ex.name;
    option.title = ex.description || "";
    select.append(option);
  }
  select.value = r.data.default;
  await loadExampleText(select.value);
}

async function loadExampleText(name) {
  const r = await api("GET", `/api/examples/${encodeURIComponent(name)}`);
  if (r.ok) { $("editor").value = r.data.text; updateGutter([]); scheduleValidate(0); }
}

function updateGutter(issues) {
  const lines = $("editor").value.split("\n").length;
  const bad = new Map();
  for (const issue of issues) if (issue.line) bad.set(issue.line, (bad.get(issue.line) ? bad.get(issue.line) + "\n" : "") + issue.message);
  const gutter = $("gutter");
  gutter.innerHTML = "";
  const fragment = document.createDocumentFragment();
  for (let n = 1; n <= lines; n++) {
    const div = document.createElement("div");
    div.textContent = n; div.dataset.line = n;
    if (bad.has(n)) { div.className = "error"; div.title = bad.get(n); }
    fragment.append(div);
  }
  gutter.append(fragment);
  gutter.scrollTop = $("editor").scrollTop;
}

function showIssues(issues, headline) {
  const list = $("errors");
  list.innerHTML = "";
  const pill = $("spec-state");
  if (!issues.length && !headline) {
    pill.textContent = "spec OK"; pill.className = "pill good";
  } else {
    pill.textContent = issues.length ? `${issues.length} problem${issues.length > 1 ? "s" : ""}` : "refused";
    pill.className = "pill bad";
  }
  if (headline && !issues.length) {
    const li = document.createElement("li"); li.textContent = headline; list.append(li);
  }
  for (const issue of issues) {
    const li = document.createElement("li");
    if (issue.line) li.dataset.line = issue.line;
    const where = issue.line ? `line ${issue.line}${issue.column ? `, col ${issue.column}` : ""}` : "spec";
    li.textContent = `${where}: ${issue.path ? issue.path + ": " : ""}${issue.message}`;
    li.addEventListener("click", () => goToLine(issue.line));
    list.append(li);
  }
  updateGutter(issues);
}

function goToLine(line) {
  if (!line) return;
  const editor = $("editor");
  const lines = editor.value.split("\n");
  let start = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
  editor.focus();
  editor.setSelectionRange(start, start + (lines[line - 1] || "").length);
  editor.scrollTop = Math.max(0, (line - 5) * 18);
}

function scheduleValidate(delay = 400) {
  clearTimeout(studio.validateTimer);
  studio.validateTimer = setTimeout(validate, delay);
}

async function validate() {
  const r = await api("POST", "/api/validate", { text: $("editor").value });
  if (!r.ok) { showIssues([], r.data ? r.data.error : `HTTP ${r.status}`); return null; }
  showIssues(r.data.issues || []);
  return r.data;
}

// ------------------------------------------------------------------ sessions
function ensureAudio() {
  if (!studio.ctx) {
    try {
      studio.ctx = new AudioContext({ latencyHint: "interactive" });
      studio.gain = studio.ctx.createGain();
      studio.gain.gain.value = Number($("volume").value);
      studio.gain.connect(studio.ctx.destination);
    } catch (err) { log(`no WebAudio here (${err}); the music is received but not played`, "error"); }
  }
  if (studio.ctx && studio.ctx.state === "suspended") studio.ctx.resume();
}

async function startSession(fromEditor) {
  ensureAudio();
  await stopSession();
  const body = fromEditor ? { text: $("editor").value } : { example: $("example").value };
  $("connection").textContent = "starting…"; $("connection").className = "pill";
  const r = await api("POST", "/api/sessions", body);
  if (!r.ok) {
    $("connection").textContent = "not playing";
    if (r.data && r.data.issues) showIssues(r.data.issues);
    log(`cannot start: ${r.data ? r.data.error : r.status}`, "error");
    return;
  }
  connect(r.data.id);
}

function connect(id) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const query = tokenQuery ? `?token=${encodeURIComponent(tokenQuery)}` : "";
  const ws = new WebSocket(`${scheme}://${location.host}/api/sessions/${id}/ws${query}`);
  ws.binaryType = "arraybuffer";
  studio.ws = ws; studio.session = id; studio.playAt = 0; studio.anchor = null; studio.bars.clear();
  document.body.dataset.session = id;
  ws.onopen = () => { document.body.dataset.connected = "true"; $("connection").textContent = "playing"; $("connection").className = "pill good"; };
  ws.onclose = (ev) => {
    if (studio.ws !== ws) return;
    document.body.dataset.connected = "false";
    $("connection").textContent = ev.reason ? `ended: ${ev.reason}` : "not playing"; $("connection").className = "pill";
    $("stop").disabled = true; $("reload").disabled = true; studio.ws = null; studio.session = null;
  };
  ws.onmessage = (ev) => {
    if (ev.data instanceof ArrayBuffer) { onAudio(ev.data); return; }
    let msg; try { msg = JSON.parse(ev.data); } catch (_) { return; }
    onMessage(msg);
  };
  $("stop").disabled = false; $("reload").disabled = false;
}

async function stopSession() {
  const ws = studio.ws;
  if (ws) { studio.ws = null; ws.close(1000, "stopped by the composer"); }
  studio.session = null;
  $("stop").disabled = true; $("reload").disabled = true;
  document.body.dataset.connected = "false";
}

function send(msg) {
  if (studio.ws && studio.ws.readyState === WebSocket.OPEN) studio.ws.send(JSON.stringify(msg));
}

async function hotReload() {
  if (!studio.session) return;
  const r = await api("PUT", `/api/sessions/${studio.session}/spec`, { text: $("editor").value });
  if (!r.ok) {
    showIssues((r.data && r.data.issues) || [], r.data ? r.data.error : `HTTP ${r.status}`);
    log(`hot reload refused: ${r.data ? r.data.error : r.status} (the music plays on unchanged)`, "error");
    return;
  }
  showIssues([]);
  log(`hot reload: generation ${r.data.generation}`);
}

// ------------------------------------------------------------------ messages from the session
function onMessage(msg) {
  switch (msg.type) {
    case "session":
      studio.generation = msg.generation; studio.sampleRate = msg.audio.sample_rate;
      studio.bars.clear(); buildControls(msg.controls); showStatus(msg.status); break;
    case "status": atHeard(msg.sample, msg.generation, () => showStatus(msg)); break;
    case "event": onEvent(msg); break;
    case "notes":
      if (msg.generation !== undefined && msg.generation !== studio.generation) break;
      studio.layers = msg.layers;
      for (const bar of msg.bars) studio.bars.set(bar.bar, bar);
      break;
    case "error": log(`refused: ${msg.reason}`, "error"); break;
    default: break;
  }
}

function onEvent(msg) {
  const d = msg.data || {};
  if (msg.kind === "beat") atHeard(msg.sample, msg.generation, () => showBeat(d.beat));
  else if (msg.kind === "rejected") log(`rejected: ${d.reason}`, "error");
  else if (msg.kind === "state_entered") atHeard(msg.sample, msg.generation, () => log(`state ${d.name}`));
  else if (msg.kind === "stinger") atHeard(msg.sample, msg.generation, () => log(`stinger ${d.name}`));
  else if (msg.kind === "transition_started") log(`transition ${d.from || "–"} → ${d.to} (${d.quantize})`);
  else if (msg.kind === "feedback") log(`you said: ${d.name.replace("_", " ")}`);
  else if (msg.kind === "met") log(`met ${d.name} (theme ${d.theme})`);
  else if (msg.kind === "recall") atHeard(msg.sample, msg.generation, () => log(`recalls ${d.thing}: theme ${d.theme}`));
}

// Run fn when the audio at engine sample `sample` is heard (or at once if we cannot tell).
function atHeard(sample, generation, fn) {
  const a = studio.anchor;
  if (!studio.ctx || !a || a.generation !== generation || sample === undefined) { fn(); return; }
  const at = a.time + (sample - a.sample) / studio.sampleRate;
  const delay = (at - studio.ctx.currentTime) * 1000;
  if (delay <= 0 || delay > 3000) fn(); else setTimeout(fn, delay);
}

function buildControls(controls) {
  studio.controls = controls;
  $("score-name").textContent = controls.name || "";
  const params = $("parameters"); params.innerHTML = "";
  if (!controls.parameters.length) params.innerHTML = '<p class="hint">This score has no parameters.</p>';
  for (const p of controls.parameters) {
    const row = document.createElement("label"); row.className = "param";
    const name = document.createElement("span"); name.textContent = p.name;
    const input = document.createElement("input");
    Object.assign(input, { type: "range", min: p.min, max: p.max, step: (p.max - p.min) / 100, value: p.default });
    input.id = `param-${p.name}`; input.dataset.param = p.name;
    const out = document.createElement("output"); out.textContent = Number(p.default).toFixed(2);
    input.addEventListener("pointerdown", () => studio.dragging.add(p.name));
    input.addEventListener("pointerup", () => studio.dragging.delete(p.name));
    input.addEventListener("input", () => { out.textContent = Number(input.value).toFixed(2); sendParam(p.name, Number(input.value)); });
    input.addEventListener("change", () => { studio.dragging.delete(p.name); sendParam(p.name, Number(input.value), true); });
    row.append(name, input, out); params.append(row);
  }
  const states = $("states"); states.innerHTML = "";
  for (const s of controls.states) {
    const b = document.createElement("button"); b.textContent = s; b.dataset.state = s;
    b.addEventListener("click", () => send({ type: "state", name: s })); states.append(b);
  }
  if (!controls.states.length) states.innerHTML = '<p class="hint">No states.</p>';
  const stingers = $("stingers"); stingers.innerHTML = "";
  for (const s of controls.stingers) {
    const b = document.createElement("button"); b.textContent = s; b.dataset.stinger = s;
    b.addEventListener("click", () => send({ type: "stinger", name: s })); stingers.append(b);
  }
  if (!controls.stingers.length) stingers.innerHTML = '<p class="hint">No stingers.</p>';
  for (const b of document.querySelectorAll("#feedback button")) b.disabled = false;
  const legend = $("legend"); legend.innerHTML = "";
  controls.layers.forEach((layer, i) => {
    const span = document.createElement("span");
    span.innerHTML = `<b style="background:${LAYER_COLOURS[i % LAYER_COLOURS.length]}"></b>`;
    span.append(layer); legend.append(span);
  });
}

// Slider moves are sent at most every 40 ms (the socket allows 100 messages/s), the final value always.
function sendParam(name, value, final) {
  const now = performance.now();
  const last = studio.lastSent.get(name) || 0;
  if (!final && now - last < 40) return;
  studio.lastSent.set(name, now);
  send({ type: "param", name, value });
}

// The engine reports bars heard since the piece began (0-based); show them from 1.
const barNumber = (index) => index + 1;

function showStatus(s) {
  if (!s) return;
  $("np-state").textContent = s.pending ? `${s.state || "–"} → ${s.pending}` : (s.state || "–");
  $("np-bar").textContent = barNumber(s.bar);
  $("np-beat").textContent = s.beat + 1;
  $("np-chord").textContent = s.chord || "–";
  $("np-key").textContent = s.key || "–";
  $("np-tempo").textContent = s.tempo ? `${Math.round(s.tempo)} bpm` : "–";
  showBeat(s.beat);
  for (const b of document.querySelectorAll("#states button")) {
    b.classList.toggle("active", b.dataset.state === s.state);
    b.classList.toggle("pending", b.dataset.state === s.pending);
  }
  for (const [name, value] of Object.entries(s.parameters || {})) {
    const input = $(`param-${name}`);
    if (input && !studio.dragging.has(name) && document.activeElement !== input) {
      input.value = value; input.nextSibling.textContent = Number(value).toFixed(2);
    }
  }
  $("health").textContent = `blocks ${s.blocks_played} · engine underruns ${s.underruns} · page underruns ${studio.pageUnderruns} · rejected ${s.rejected}`;
}

function showBeat(beat) {
  const beats = $("beats");
  const count = (studio.bars.values().next().value || {}).beats || 4;
  if (beats.children.length !== count) { beats.innerHTML = ""; for (let i = 0; i < count; i++) beats.append(document.createElement("i")); }
  [...beats.children].forEach((el, i) => el.classList.toggle("on", i === beat));
}

// ------------------------------------------------------------------ audio
function onAudio(buffer) {
  const view = new DataView(buffer);
  const sample = view.getFloat64(0, true), generation = view.getUint32(8, true), frames = view.getUint32(12, true);
  const pcm = new Int16Array(buffer, 16, frames * 2);
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += pcm[i] * pcm[i];
  studio.squares.push(sum / Math.max(1, pcm.length) / (32768 * 32768));
  if (studio.squares.length > 10) studio.squares.shift();   // RMS over the last ~0.5 s received
  const rms = Math.sqrt(studio.squares.reduce((a, b) => a + b, 0) / studio.squares.length);
  studio.frames += 1;
  document.body.dataset.rms = rms.toFixed(5);
  document.body.dataset.frames = studio.frames;
  $("level").value = rms;
  const ctx = studio.ctx;
  if (!ctx) return;
  const audio = ctx.createBuffer(2, frames, studio.sampleRate);
  const left = audio.getChannelData(0), right = audio.getChannelData(1);
  for (let i = 0, j = 0; i < frames; i++, j += 2) { left[i] = pcm[j] / 32768; right[i] = pcm[j + 1] / 32768; }
  if (studio.playAt < ctx.currentTime + 0.02) {
    if (studio.playAt > 0) { studio.pageUnderruns += 1; document.body.dataset.pageUnderruns = studio.pageUnderruns; }
    studio.playAt = ctx.currentTime + JITTER_S;
  }
  const source = ctx.createBufferSource();
  source.buffer = audio; source.connect(studio.gain); source.start(studio.playAt);
  if (sample >= 0) studio.anchor = { sample, generation, time: studio.playAt };
  studio.playAt += frames / studio.sampleRate;
}

// ------------------------------------------------------------------ piano roll
function heardSample() {
  const a = studio.anchor;
  if (!a || !studio.ctx) return null;
  return a.sample + (studio.ctx.currentTime - a.time) * studio.sampleRate;
}

function drawRoll() {
  const canvas = $("roll"), g = canvas.getContext("2d");
  const width = canvas.width = canvas.clientWidth * devicePixelRatio, height = canvas.height = canvas.clientHeight * devicePixelRatio;
  g.fillStyle = "#101218"; g.fillRect(0, 0, width, height);
  const now = heardSample();
  const bars = [...studio.bars.values()].sort((a, b) => a.sample - b.sample);
  const sr = studio.sampleRate, head = width * 0.12, pxPerS = (width - head) / ROLL_SECONDS;
  const ref = now !== null ? now : (bars.length ? bars[0].sample : 0);
  let low = 127, high = 0;
  for (const bar of bars) for (const n of bar.notes) { low = Math.min(low, n[0]); high = Math.max(high, n[0]); }
  if (low > high) { low = 48; high = 84; }
  low -= 2; high += 2;
  const rowH = height / (high - low + 1);
  for (const bar of bars) {
    const secPerBeat = 60 / bar.tempo;
    const x0 = head + (bar.sample - ref) / sr * pxPerS;
    if (x0 > width) continue;
    g.strokeStyle = "#2b303b"; g.beginPath(); g.moveTo(x0, 0); g.lineTo(x0, height); g.stroke();
    g.fillStyle = "#5b6170"; g.font = `${11 * devicePixelRatio}px sans-serif`; g.fillText(`${barNumber(bar.bar)}`, x0 + 3, 12 * devicePixelRatio);
    for (const [pitch, start, dur, layer] of bar.notes) {
      const x = x0 + start * secPerBeat * pxPerS, w = Math.max(2, dur * secPerBeat * pxPerS - 1);
      if (x + w < 0 || x > width) continue;
      g.fillStyle = LAYER_COLOURS[layer % LAYER_COLOURS.length];
      g.globalAlpha = x < head ? 0.35 : 0.9;
      g.fillRect(x, height - (pitch - low + 1) * rowH, w, Math.max(2, rowH - 1));
    }
    g.globalAlpha = 1;
  }
  g.strokeStyle = "#e8e6e1"; g.beginPath(); g.moveTo(head, 0); g.lineTo(head, height); g.stroke();
  if (now !== null) {   // forget bars that scrolled out
    for (const [index, bar] of studio.bars) if (bar.sample + bar.beats * 60 / bar.tempo * sr < now - 2 * sr) studio.bars.delete(index);
  }
  requestAnimationFrame(drawRoll);
}

// ------------------------------------------------------------------ wiring
function syncGutterScroll() { $("gutter").scrollTop = $("editor").scrollTop; }

window.addEventListener("DOMContentLoaded", () => {
  $("start").addEventListener("click", () => startSession(false));
  for (const b of document.querySelectorAll("#feedback button")) {
    b.addEventListener("click", () => send({ type: "feedback", name: b.dataset.feedback }));
  }
  $("start-editor").addEventListener("click", () => startSession(true));
  $("stop").addEventListener("click", stopSession);
  $("reload").addEventListener("click", hotReload);
  $("validate").addEventListener("click", validate);
  $("example").addEventListener("change", () => loadExampleText($("example").value));
  $("volume").addEventListener("input", () => { if (studio.gain) studio.gain.gain.value = Number($("volume").value); });
  $("editor").addEventListener("input", () => { updateGutter([]); scheduleValidate(); });
  $("editor").addEventListener("scroll", syncGutterScroll);
  $("editor").addEventListener("keydown", (ev) => {   // Tab indents by two spaces, as YAML wants
    if (ev.key !== "Tab") return;
    ev.preventDefault();
    const e = ev.target, s = e.selectionStart;
    e.setRangeText("  ", s, e.selectionEnd, "end"); e.dispatchEvent(new Event("input"));
  });
  loadExamples();
  requestAnimationFrame(drawRoll);
});

window.segueStudio = studio;  // for tests and for the curious
