/**
 * The report page's own style and script, inlined into every report (the page loads nothing else).
 *
 * The script turns each `[data-table]` element into a table over the rows embedded beside it as JSON:
 * sortable by any column, filtered by the columns that ask for it (text or a list of the values present),
 * and shown a page of rows at a time, so a run of tens of thousands of orders opens as fast as a small one.
 * It is kept as plain text because it runs in the browser, not in this program.
 */

export const STYLE = `
:root { --ink:#111827; --muted:#6b7280; --line:#e5e7eb; --soft:#f9fafb; --blue:#2563eb; --red:#dc2626; --amber:#b45309; --green:#15803d; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #fff; }
header, main, footer { max-width: 1180px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 20px; }
h1 { font-size: 22px; margin: 0 0 6px; }
h1 code { font-size: 20px; }
h2 { font-size: 17px; margin: 30px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 18px 0 6px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
nav { margin: 10px 0 0; display: flex; gap: 14px; flex-wrap: wrap; }
nav a { color: var(--blue); text-decoration: none; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 10px; font-size: 13px; font-weight: 600; vertical-align: middle; background: #e5e7eb; }
.badge.done, .badge.ok { background: #dcfce7; color: var(--green); }
.badge.blocked, .badge.failed, .badge.bad { background: #fee2e2; color: var(--red); }
.badge.running, .badge.queued { background: #fef3c7; color: var(--amber); }
.error { color: var(--red); margin: 6px 0; }
.summary { display: grid; grid-template-columns: repeat(auto-fill, minmax(165px, 1fr)); gap: 8px; margin: 14px 0 4px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; background: var(--soft); }
.card .label { color: var(--muted); font-size: 12px; }
.card .value { font-size: 17px; font-weight: 600; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.card .value.long { font-size: 13px; padding-top: 4px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }
@media (max-width: 900px) { .columns { grid-template-columns: 1fr; } }
figure { margin: 0 0 8px; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 12.5px; }
.key { display: inline-block; width: 12px; height: 12px; vertical-align: -1px; margin: 0 3px 0 10px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
th { background: var(--soft); font-weight: 600; font-size: 12.5px; position: sticky; top: 0; }
th button { all: unset; cursor: pointer; }
th[aria-sort="ascending"] button::after { content: " ▲"; font-size: 10px; }
th[aria-sort="descending"] button::after { content: " ▼"; font-size: 10px; }
td.num, th.num { text-align: right; }
td.wrap { white-space: normal; max-width: 520px; overflow-wrap: anywhere; }
tr.over td { background: #fef2f2; }
.st-FILLED { color: var(--green); } .st-PARTIAL { color: var(--amber); }
.st-REJECTED, .st-CANCELED { color: var(--red); } .st-NEW, .st-SUBMITTED { color: var(--muted); }
.pos { color: var(--red); } .neg { color: var(--green); }
.tablewrap { overflow-x: auto; max-height: 640px; overflow-y: auto; border: 1px solid var(--line); border-radius: 6px; }
.filters { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; margin: 6px 0; }
.filters input, .filters select { font: inherit; padding: 3px 6px; border: 1px solid #d1d5db; border-radius: 5px; }
.pager { display: flex; gap: 8px; align-items: center; margin: 6px 0 0; color: var(--muted); }
.pager button { font: inherit; padding: 2px 10px; border: 1px solid #d1d5db; border-radius: 5px; background: #fff; cursor: pointer; }
.pager button:disabled { opacity: .4; cursor: default; }
.muted { color: var(--muted); }
footer { color: var(--muted); font-size: 12px; margin-top: 36px; padding-bottom: 30px; }
`

export const SCRIPT = `
(function () {
  "use strict";
  var PAGE = 100;
  var escapeHtml = function (s) {
    return String(s).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; });
  };
  var numberOf = function (s) {
    if (s === "" || s === null) return null;
    var n = Number(String(s).replace(/[,%+]/g, ""));
    return isNaN(n) ? null : n;
  };
  var make = function (tag, attributes, text) {
    var element = document.createElement(tag);
    for (var key in attributes) element.setAttribute(key, attributes[key]);
    if (text !== undefined) element.textContent = text;
    return element;
  };
  var tables = document.querySelectorAll("[data-table]");
  for (var t = 0; t < tables.length; t++) (function (root) {
    var spec = JSON.parse(document.getElementById(root.getAttribute("data-table")).textContent);
    var columns = spec.columns, all = spec.rows, shown = all, page = 0, sortColumn = -1, descending = false;
    var filters = make("div", { "class": "filters" });
    var controls = [];
    columns.forEach(function (column, index) {
      if (!column.filter) return;
      var control;
      if (column.filter === "text") {
        control = make("input", { type: "search", placeholder: column.label, "aria-label": "filter by " + column.label, "data-filter": column.key });
      } else {
        control = make("select", { "aria-label": "filter by " + column.label, "data-filter": column.key });
        control.appendChild(make("option", { value: "" }, "every " + column.label.toLowerCase()));
        var seen = {};
        all.forEach(function (row) { seen[row[index]] = true; });
        Object.keys(seen).sort().forEach(function (value) { control.appendChild(make("option", { value: value }, value === "" ? "(none)" : value)); });
      }
      control.addEventListener("input", apply);
      controls.push({ index: index, control: control, text: column.filter === "text" });
      filters.appendChild(control);
    });
    var count = make("span", { "class": "muted" });
    filters.appendChild(count);
    var table = make("table");
    var head = make("tr");
    columns.forEach(function (column, index) {
      var th = make("th", { "class": column.numeric ? "num" : "", scope: "col" });
      var button = make("button", { type: "button", title: "sort by " + column.label }, column.label);
      button.addEventListener("click", function () {
        descending = sortColumn === index ? !descending : false;
        sortColumn = index;
        apply();
      });
      th.appendChild(button);
      head.appendChild(th);
    });
    var thead = make("thead");
    thead.appendChild(head);
    var body = make("tbody");
    table.appendChild(thead);
    table.appendChild(body);
    var wrap = make("div", { "class": "tablewrap" });
    wrap.appendChild(table);
    var pager = make("div", { "class": "pager" });
    var previous = make("button", { type: "button" }, "← previous");
    var next = make("button", { type: "button" }, "next →");
    var where = make("span");
    previous.addEventListener("click", function () { page--; draw(); });
    next.addEventListener("click", function () { page++; draw(); });
    pager.appendChild(previous);
    pager.appendChild(where);
    pager.appendChild(next);
    root.appendChild(filters);
    root.appendChild(wrap);
    root.appendChild(pager);

    function apply() {
      var active = controls.filter(function (c) { return c.control.value !== ""; }).map(function (c) {
        return { index: c.index, text: c.text, value: c.text ? c.control.value.trim().toLowerCase() : c.control.value };
      });
      shown = active.length === 0 ? all.slice() : all.filter(function (row) {
        return active.every(function (f) {
          var cell = String(row[f.index]);
          return f.text ? cell.toLowerCase().indexOf(f.value) >= 0 : cell === f.value;
        });
      });
      if (sortColumn >= 0) {
        var numeric = columns[sortColumn].numeric, i = sortColumn, sign = descending ? -1 : 1;
        shown.sort(function (a, b) {
          if (numeric) {
            var x = numberOf(a[i]), y = numberOf(b[i]);
            if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
            return (x - y) * sign;
          }
          return String(a[i]).localeCompare(String(b[i])) * sign;
        });
      }
      head.querySelectorAll("th").forEach(function (th, index) {
        if (index === sortColumn) th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        else th.removeAttribute("aria-sort");
      });
      page = 0;
      draw();
    }

    function draw() {
      var pages = Math.max(1, Math.ceil(shown.length / PAGE));
      page = Math.min(Math.max(page, 0), pages - 1);
      var rows = shown.slice(page * PAGE, page * PAGE + PAGE);
      body.innerHTML = rows.map(function (row) {
        return "<tr>" + row.map(function (cell, index) {
          var column = columns[index];
          var classes = (column.numeric ? "num" : "") + (column.status ? " st-" + cell : "") + (column.wrap ? " wrap" : "") +
            (column.signed && numberOf(cell) !== null && numberOf(cell) !== 0 ? (numberOf(cell) > 0 ? " pos" : " neg") : "");
          return "<td class=\\"" + classes + "\\">" + escapeHtml(cell) + "</td>";
        }).join("") + "</tr>";
      }).join("");
      var first = shown.length === 0 ? 0 : page * PAGE + 1;
      where.textContent = "rows " + first + "–" + (page * PAGE + rows.length) + " of " + shown.length.toLocaleString("en-US");
      count.textContent = shown.length === all.length ? all.length.toLocaleString("en-US") + " rows" : shown.length.toLocaleString("en-US") + " of " + all.length.toLocaleString("en-US") + " rows";
      previous.disabled = page === 0;
      next.disabled = page >= pages - 1;
      pager.style.display = pages > 1 ? "" : "none";
    }

    apply();
  })(tables[t]);
})();
`
