// Ksctl web client: plain JavaScript served by the server (no build). Every call goes to /api/v1 with the API key the
// user signed in with (kept in sessionStorage only); validation messages shown are the API's problem details.
"use strict";
const $ = (s) => document.querySelector(s);
let me = null, catalogue = [];
// The operation this tab just started: its cluster may have no state yet when the page first loads.
let pending = null;

function key() { return sessionStorage.getItem("ksctl-key"); }

async function api(method, path, body, type) {
  const headers = { "Authorization": "Bearer " + key() };
  if (body !== undefined) headers["Content-Type"] = type || "application/json";
  const send = () => fetch("/api/v1" + path, { method, headers, body: body === undefined ? undefined : (typeof body === "string" ? body : JSON.stringify(body)) });
  // A read whose connection broke ("Failed to fetch": a busy server closed it) is sent once more; a change never is.
  let res;
  try { res = await send(); } catch (e) { if (method !== "GET" || e.name !== "TypeError") throw e; res = await send(); }
  if (res.status === 401) { signOut(); throw new Error("Signed out: the API key was refused."); }
  const text = await res.text();
  const data = text && (res.headers.get("content-type") || "").includes("json") ? JSON.parse(text) : text;
  if (!res.ok) { const e = new Error(data && data.detail ? `${data.errorId}: ${data.detail}` : `HTTP ${res.status}`); e.problem = data; throw e; }
  return data;
}

const can = (role) => ({ Reader: 1, Operator: 2, Admin: 3 })[me.role] >= ({ reader: 1, operator: 2, admin: 3 })[role];

function show(id) { for (const s of ["signin", "list", "create", "cluster"]) $("#" + s).hidden = s !== id; }

function applyRoles() {
  // A reader does not see what it may not do (the API refuses it anyway).
  document.querySelectorAll("[data-role]").forEach((el) => { el.hidden = !can(el.dataset.role); });
}

function signOut() { sessionStorage.removeItem("ksctl-key"); me = null; $("#who").textContent = ""; $("#signout").hidden = true; show("signin"); }

async function signIn(k) {
  sessionStorage.setItem("ksctl-key", k);
  try { me = await api("GET", "/me"); } catch (e) { $("#signin-error").textContent = e.message; signOut(); return; }
  $("#who").textContent = `${me.name} (${me.role})`;
  $("#signout").hidden = false;
  catalogue = await api("GET", "/providers");
  route();
}

function cell(text, cls) { const td = document.createElement("td"); td.textContent = text ?? ""; if (cls) td.className = cls; return td; }

async function renderList() {
  show("list"); applyRoles();
  const body = $("#clusters tbody"); body.textContent = "";
  for (const c of await api("GET", "/clusters")) {
    const tr = document.createElement("tr"); tr.className = "row"; tr.dataset.name = c.name;
    tr.append(cell(c.name), cell(c.provider), cell(c.type), cell(c.region), cell(c.status, "status-" + c.status), cell(String(c.nodes.length)),
      cell(c.health ? c.health + (c.healthReasons.length ? ": " + c.healthReasons.join("; ") : "") : "", "health-" + c.health));
    tr.onclick = () => { location.hash = `#/clusters/${encodeURIComponent(c.name)}?provider=${c.provider}&type=${c.type}&region=${encodeURIComponent(c.region)}`; };
    body.append(tr);
  }
}

function fill(select, values, selected) {
  select.textContent = "";
  for (const v of values) { const o = document.createElement("option"); o.value = o.textContent = v; if (v === selected) o.selected = true; select.append(o); }
}

function refreshCreateChoices() {
  const f = $("#create-form"), p = catalogue.find((x) => x.provider === f.provider.value) || catalogue[0];
  fill(f.type, p.types); fill(f.region, p.regions, p.defaultRegion); fill(f.kubernetesVersion, p.kubernetesVersions);
  fill(f.nodeSize, [""].concat(p.nodeSizes), p.defaultNodeSize || "");
}

function renderCreate() {
  show("create"); $("#create-error").textContent = "";
  const f = $("#create-form"); fill(f.provider, catalogue.map((p) => p.provider)); refreshCreateChoices();
}

async function submitCreate(ev) {
  ev.preventDefault();
  const f = ev.target, spec = { name: f.name.value, provider: f.provider.value, type: f.type.value, region: f.region.value, kubernetesVersion: f.kubernetesVersion.value };
  if (f.nodeSize.value) spec.nodeSize = f.nodeSize.value;
  if (f.nodeCount.value) spec.nodeCount = Number(f.nodeCount.value);
  if (f.workerCount.value) spec.workerCount = Number(f.workerCount.value);
  if (f.reconcile.checked) spec.reconcile = true;
  try {
    const op = await api("POST", "/clusters", spec);
    pending = op;
    location.hash = `#/clusters/${encodeURIComponent(op.cluster.name)}?provider=${op.cluster.provider}&type=${op.cluster.type}&region=${encodeURIComponent(op.cluster.region)}`;
  } catch (e) { $("#create-error").textContent = e.message; }
}

let current = null, streams = [], renders = 0;

async function renderCluster(name, query) {
  // Renders can overlap (a click, an operation's End): only the newest one draws; an older one stops at its next await.
  const render = ++renders;
  show("cluster"); applyRoles(); $("#cluster-error").textContent = "";
  streams.forEach((s) => s.abort()); streams = [];
  current = { name, query };
  const starting = pending && pending.cluster.name === name && pending.status === "Running" ? pending : null;
  // The operations first, then the cluster: an operation still running when listed is followed (its End renders the
  // page again), and one that ended before the list was read is already in the cluster read after it. (Read the other
  // way round, an operation ending between the two reads left the page showing Deleting for good.)
  let ops = [];
  try { ops = await api("GET", `/clusters/${encodeURIComponent(name)}/operations${query}`); } catch { /* the cluster is gone, or not there yet */ }
  if (render !== renders) return;
  let c, failure = null;
  try { c = await api("GET", `/clusters/${encodeURIComponent(name)}${query}`); } catch (e) { failure = e; }
  if (render !== renders) return;
  // A cluster being created may not be readable yet; any other failure (a deleted cluster's KsctlClusterNotFound) is shown.
  // Until then the title comes from the operation that creates it (its cluster reference names the same four parts).
  if (failure) {
    $("#cluster-title").textContent = starting ? `${name} (${starting.cluster.provider}/${starting.cluster.type}, ${starting.cluster.region})` : name;
    $("#cluster-facts").textContent = "";
    if (!starting || starting.kind !== "create") $("#cluster-error").textContent = failure.message;
  }
  if (c) {
    $("#cluster-title").textContent = `${c.name} (${c.provider}/${c.type}, ${c.region})`;
    const dl = $("#cluster-facts"); dl.textContent = "";
    for (const [k, v] of [["Status", c.status], ["Distribution", c.distribution], ["Kubernetes", c.kubernetesVersion], ["Nodes", c.nodes.map((n) => `${n.name} (${n.role})`).join(", ")],
      ["Health", c.health], ["Health reasons", c.healthReasons.join("; ")], ["Drift", c.drift.join("; ")], ["Reconcile", String(c.reconcile)], ["Last errors", c.lastErrors.join("\n")]]) {
      const dt = document.createElement("dt"); dt.textContent = k; const dd = document.createElement("dd"); dd.textContent = v ?? ""; dd.id = "fact-" + k.toLowerCase().replace(/ /g, "-"); dl.append(dt, dd);
    }
    $("#delete-form").confirm.value = ""; $("#delete-button").disabled = true;
  }
  const box = $("#operations"); box.textContent = "";
  if (starting && !ops.some((o) => o.id === starting.id)) ops.unshift(starting);
  else pending = null;
  for (const op of ops) box.append(renderOperation(op));
}

function renderOperation(op) {
  const div = document.createElement("div"); div.className = "op"; div.id = "op-" + op.id;
  const head = document.createElement("div"); head.className = "op-head"; div.append(head);
  const list = document.createElement("ol"); div.append(list);
  const draw = (o) => {
    head.textContent = `${o.kind} by ${o.requestedBy}: ${o.status}` + (o.errors.length ? " — " + o.errors.map((e) => `${e.errorId}: ${e.message}`).join("; ") : "");
    head.dataset.status = o.status;
    list.textContent = "";
    for (const s of o.steps) { const li = document.createElement("li"); li.className = "step-" + s.status; li.textContent = `${s.name}: ${s.status}`; list.append(li); }
  };
  draw(op);
  if (op.status === "Running") follow(op.id, draw);
  return div;
}

// Server-Sent Events through fetch (EventSource cannot send the API key header): each event refreshes the operation.
// A stream that broke or closed before the operation's End is picked up again by reading the page anew (which follows
// the operation again if it still runs), a few times per operation: the page never waits on a stream that is gone.
const resumed = new Map();
function resumeAfterBrokenStream(id) {
  const n = resumed.get(id) || 0;
  if (n >= 3 || !current) return false;
  resumed.set(id, n + 1);
  renderCluster(current.name, current.query);
  return true;
}

async function follow(id, draw) {
  const ctrl = new AbortController(); streams.push(ctrl);
  try {
    const res = await fetch(`/api/v1/operations/${id}/events`, { headers: { "Authorization": "Bearer " + key() }, signal: ctrl.signal });
    const reader = res.body.getReader(), decoder = new TextDecoder(); let buf = "";
    for (;;) {
      const { value, done } = await reader.read(); if (done) break;
      buf += decoder.decode(value, { stream: true });
      let i; while ((i = buf.indexOf("\n\n")) >= 0) {
        const chunk = buf.slice(0, i); buf = buf.slice(i + 2);
        draw(await api("GET", `/operations/${id}`));
        if (/^event: End$/m.test(chunk)) {
          if (pending && pending.id === id) pending = null;
          if (current) await renderCluster(current.name, current.query);
          return;
        }
      }
    }
  } catch (e) {
    if (e.name === "AbortError" || ctrl.signal.aborted) return;
    if (e.name === "TypeError" && resumeAfterBrokenStream(id)) return;
    $("#cluster-error").textContent = e.message;
    return;
  }
  if (!ctrl.signal.aborted) resumeAfterBrokenStream(id);
}

function route() {
  if (!key()) { show("signin"); return; }
  if (!me) { signIn(key()); return; }
  const h = location.hash || "#/";
  const m = h.match(/^#\/clusters\/([^?]+)(\?.*)?$/);
  if (h === "#/new" && can("operator")) renderCreate();
  else if (m) renderCluster(decodeURIComponent(m[1]), m[2] || "");
  else renderList();
}

$("#signin-form").onsubmit = (ev) => { ev.preventDefault(); $("#signin-error").textContent = ""; signIn($("#apikey").value.trim()); };
$("#signout").onclick = signOut;
$("#show-create").onclick = () => { location.hash = "#/new"; };
$("#cancel-create").onclick = () => { location.hash = "#/"; };
$("#create-form").provider.onchange = refreshCreateChoices;
$("#create-form").onsubmit = submitCreate;
$("#delete-form").confirm.oninput = (ev) => { $("#delete-button").disabled = ev.target.value !== current.name; };
$("#delete-form").onsubmit = async (ev) => {
  ev.preventDefault();
  // The delete may finish before the page reads the cluster's operations back, so the page follows the operation it was answered with.
  try { pending = await api("DELETE", `/clusters/${encodeURIComponent(current.name)}${current.query}`); await renderCluster(current.name, current.query); }
  catch (e) { $("#cluster-error").textContent = e.message; }
};
$("#resize-form").onsubmit = async (ev) => {
  ev.preventDefault();
  try { await api("POST", `/clusters/${encodeURIComponent(current.name)}/resize${current.query}`, { workerCount: Number(ev.target.workerCount.value) }); await renderCluster(current.name, current.query); }
  catch (e) { $("#cluster-error").textContent = e.message; }
};
$("#kubeconfig").onclick = async () => {
  try {
    const yaml = await api("GET", `/clusters/${encodeURIComponent(current.name)}/kubeconfig${current.query}`);
    const a = document.createElement("a"); a.href = URL.createObjectURL(new Blob([yaml], { type: "application/yaml" })); a.download = `${current.name}.kubeconfig`; a.click();
  } catch (e) { $("#cluster-error").textContent = e.message; }
};
window.onhashchange = route;
route();
