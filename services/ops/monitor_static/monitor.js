// The operator page: polls /api/state and draws statuses, lag charts (uPlot, vendored), throughput,
// dead letters and the latest matches. No network access beyond this monitor is needed.
"use strict";

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd"];
const charts = {};   // group -> {plot, keys}
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k === "text") node.textContent = v; else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
};
const fmt = (v, digits = 0) => (v === null || v === undefined) ? "–" : Number(v).toFixed(digits);
const time = (s) => s ? new Date(s * 1000).toLocaleTimeString([], {hour12: false}) : "–";
const safeId = (s) => s.replace(/[^A-Za-z0-9_-]/g, "_");

function groupCard(group) {
  const id = "group-" + safeId(group.group);
  let card = document.getElementById(id);
  if (!card) {
    card = el("section", {class: "card group", id, "data-group": group.group});
    card.append(
      el("div", {class: "head"},
        el("h2", {text: group.group}),
        el("span", {class: "st", "data-role": "status"}),
        el("span", {class: "kv", "data-role": "summary"})),
      el("div", {class: "chart", "data-role": "chart"}),
      el("details", {"data-role": "details"}, el("summary", {text: "partitions"}),
        el("table", {}, el("thead", {}, el("tr", {},
          ...["topic", "partition", "committed", "log-end", "lag", "lag s", "msg/s", "status"].map(h => el("th", {text: h})))),
          el("tbody", {"data-role": "partitions"}))));
    document.getElementById("groups").append(card);
  }
  return card;
}

function renderGroup(group, history) {
  const card = groupCard(group);
  const badge = card.querySelector('[data-role="status"]');
  badge.textContent = group.status;
  badge.className = "st " + group.status;
  const summary = card.querySelector('[data-role="summary"]');
  summary.innerHTML = "";
  const kv = (label, value) => summary.append(el("span", {}, label + " ", el("b", {text: value}), "  · "));
  kv("state", group.state);
  kv("members", String(group.members));
  kv("sum lag", fmt(group.sum_lag));
  kv("max lag", fmt(group.max_lag));
  kv("max lag", fmt(group.max_lag_seconds, 1) + " s");
  summary.append(el("span", {}, "consumed ", el("b", {text: fmt(group.consume_rate, 1) + " msg/s"})));

  const body = card.querySelector('tbody[data-role="partitions"]');
  body.innerHTML = "";
  for (const p of group.partitions) {
    body.append(el("tr", {},
      el("td", {text: p.topic}), el("td", {text: p.partition}), el("td", {text: fmt(p.committed)}),
      el("td", {text: fmt(p.end)}), el("td", {text: fmt(p.lag)}), el("td", {text: fmt(p.lag_seconds, 1)}),
      el("td", {text: fmt(p.consume_rate, 1)}), el("td", {}, el("span", {class: "st " + p.status, text: p.status}))));
  }
  drawChart(group.group, card.querySelector('[data-role="chart"]'), history);
}

function drawChart(name, box, history) {
  const keys = history ? Object.keys(history.series) : [];
  if (!history || !keys.length || history.t.length === 0) {
    if (charts[name]) { charts[name].plot.destroy(); delete charts[name]; }
    box.innerHTML = "";
    box.append(el("div", {class: "empty", text: "no committed offsets for this group yet"}));
    box.dataset.points = "0";
    return;
  }
  const data = [history.t, ...keys.map(k => history.series[k])];
  const width = Math.max(300, box.clientWidth || 600);
  const existing = charts[name];
  if (existing && existing.keys.join("|") === keys.join("|")) {
    existing.plot.setData(data);
    if (Math.abs(existing.plot.width - width) > 20) existing.plot.setSize({width, height: 220});
  } else {
    if (existing) existing.plot.destroy();
    box.innerHTML = "";
    const opts = {
      width, height: 220,
      title: "lag (messages) per partition, last " + Math.round(state.history_seconds / 60) + " min",
      scales: {x: {time: true}, y: {range: (u, min, max) => [0, Math.max(5, max * 1.1)]}},
      axes: [{}, {label: "lag", size: 60}],
      legend: {live: false},
      series: [{}, ...keys.map((k, i) => ({label: k, stroke: PALETTE[i % PALETTE.length], width: 1.5,
        points: {show: false}, spanGaps: false}))],
    };
    charts[name] = {plot: new uPlot(opts, data, box), keys};
  }
  let points = 0;
  for (const k of keys) points += history.series[k].filter(v => v !== null && v !== undefined).length;
  box.dataset.points = String(points);
}

function renderSide(s) {
  const tp = document.querySelector("#throughput tbody");
  tp.innerHTML = "";
  tp.append(el("tr", {}, el("th", {text: "consumed by group"}), el("th", {text: "msg/s"})));
  for (const g of s.groups) tp.append(el("tr", {}, el("td", {text: g.group}), el("td", {text: fmt(g.consume_rate, 2)})));
  tp.append(el("tr", {}, el("th", {text: "produced to topic"}), el("th", {text: "msg/s"})));
  for (const [topic, rate] of Object.entries(s.produce_rate)) tp.append(el("tr", {}, el("td", {text: topic}), el("td", {text: fmt(rate, 2)})));

  const pipe = document.getElementById("pipeline-panel");
  pipe.hidden = !s.pipeline;
  if (s.pipeline) {
    const body = document.querySelector("#pipeline tbody");
    body.innerHTML = "";
    for (const [k, v] of Object.entries(s.pipeline)) body.append(el("tr", {}, el("td", {text: k.replace(/_/g, " ")}), el("td", {text: fmt(v)})));
  }

  document.getElementById("dead-count").textContent = s.dead_letters.count;
  const dl = document.getElementById("dead-letters");
  dl.innerHTML = "";
  if (!s.dead_letters.latest.length) dl.append(el("li", {class: "empty", text: "none"}));
  for (const d of s.dead_letters.latest) {
    dl.append(el("li", {}, el("span", {class: "when", text: time(d.at)}), (d.source_topic ? d.source_topic + ": " : "") + d.reason));
  }

  document.getElementById("match-count").textContent = s.matches.count;
  const mt = document.querySelector("#matches tbody");
  mt.innerHTML = "";
  if (!s.matches.latest.length) mt.append(el("tr", {}, el("td", {class: "empty", colspan: "5", text: "none yet"})));
  for (const m of s.matches.latest) {
    mt.append(el("tr", {}, el("td", {text: time(m.at)}), el("td", {text: m.challenge_id || "?"}),
      el("td", {text: m.company_id || "?"}), el("td", {text: fmt(m.rank)}), el("td", {text: fmt(m.score, 3)})));
  }
}

let state = {history_seconds: 3600};
async function refresh() {
  const broker = document.getElementById("broker");
  try {
    const response = await fetch("/api/state", {cache: "no-store"});
    state = await response.json();
    broker.textContent = state.ready ? "broker connected" : ("broker: " + (state.error || "not sampled yet"));
    broker.className = "pill " + (state.ready ? "ok" : "bad");
    document.getElementById("updated").textContent = "sampled " + time(state.at) + " · every " + state.interval + " s · window " + state.window;
    for (const g of state.groups) renderGroup(g, state.history[g.group]);
    renderSide(state);
    document.body.dataset.loaded = "1";
  } catch (error) {
    broker.textContent = "monitor unreachable";
    broker.className = "pill bad";
  }
}

const every = Math.min(5000, Math.max(1000, Number(new URLSearchParams(location.search).get("refresh_ms")) || 2000));
refresh();
setInterval(refresh, every);
window.addEventListener("resize", () => { for (const c of Object.values(charts)) c.plot.setSize({width: c.plot.root.parentNode.clientWidth, height: 220}); });
