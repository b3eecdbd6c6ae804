// Pages explorer: filters, sorts and pages the JSON block #pages-data.
// Cells are filled with textContent only: the data came from the crawled site.
(function () {
  "use strict";
  var PAGE_SIZE = 50;
  var CLASS_ORDER = ["2xx", "3xx", "4xx", "5xx", "error", "skipped"];
  var TYPE_OPTIONS = 30;
  var HTTP_URL = /^https?:\/\/[^\u0000-\u0020\u007f]+$/i;

  var block = document.getElementById("pages-data");
  if (!block) return;  // the explorer could not be drawn: the report says so in its place
  var data = JSON.parse(block.textContent);
  var col = {};
  data.columns.forEach(function (name, i) { col[name] = i; });
  var rows = data.rows;

  var table = document.getElementById("explorer");
  var tbody = table.tBodies[0];
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var keys = headers.map(function (th) { return th.getAttribute("data-key"); });
  var filters = {
    url: document.getElementById("f-url"),
    statusClass: document.getElementById("f-class"),
    type: document.getElementById("f-type"),
    indexable: document.getElementById("f-indexable"),
    depth: document.getElementById("f-depth"),
    structured: document.getElementById("f-structured"),
    segment: document.getElementById("f-segment")  // absent from a report without segments
  };
  var pageInfo = document.getElementById("page-info");
  var countLine = document.getElementById("explorer-count");
  var prev = document.getElementById("page-prev");
  var next = document.getElementById("page-next");

  var view = rows;
  var sortKey = null;
  var sortDirection = 1;
  var page = 0;

  function tally(index) {
    var counts = new Map();
    for (var i = 0; i < rows.length; i++) {
      var value = rows[i][index];
      if (value !== null) counts.set(value, (counts.get(value) || 0) + 1);
    }
    return counts;
  }

  // A page's structured data types are one cell, "Product, Offer": each type is counted on its own.
  function typesOf(cell) {
    return cell === null ? [] : cell.split(", ");
  }

  function tallyTypes() {
    var counts = new Map();
    rows.forEach(function (row) {
      typesOf(row[col.structured_types]).forEach(function (kind) { counts.set(kind, (counts.get(kind) || 0) + 1); });
    });
    return counts;
  }

  function addOptions(select, values, counts) {
    values.forEach(function (value) {
      var label = String(value) + " (" + counts.get(value).toLocaleString() + ")";
      select.add(new Option(label, String(value)));
    });
  }

  function fillFilterOptions() {
    var classes = tally(col.status_class);
    addOptions(filters.statusClass, CLASS_ORDER.filter(function (c) { return classes.has(c); }), classes);
    var types = tally(col.content_type);
    var common = Array.from(types.keys()).sort(function (a, b) { return types.get(b) - types.get(a); });
    addOptions(filters.type, common.slice(0, TYPE_OPTIONS), types);
    var depths = tally(col.depth);
    addOptions(filters.depth, Array.from(depths.keys()).sort(function (a, b) { return a - b; }), depths);
    var kinds = tallyTypes();
    addOptions(filters.structured, Array.from(kinds.keys()).sort(), kinds);
    if (filters.segment && col.segment !== undefined) {
      var segments = tally(col.segment);
      addOptions(filters.segment, Array.from(segments.keys()).sort(), segments);
    }
  }

  function currentFilter() {
    return {
      url: filters.url.value.trim().toLowerCase(),
      statusClass: filters.statusClass.value,
      type: filters.type.value,
      indexable: filters.indexable.value,
      depth: filters.depth.value === "" ? null : Number(filters.depth.value),
      structured: filters.structured.value,
      segment: filters.segment ? filters.segment.value : ""
    };
  }

  function keeps(row, f) {
    if (f.statusClass && row[col.status_class] !== f.statusClass) return false;
    if (f.type && row[col.content_type] !== f.type) return false;
    if (f.indexable && row[col.indexable] !== (f.indexable === "yes")) return false;
    if (f.depth !== null && row[col.depth] !== f.depth) return false;
    if (f.structured && typesOf(row[col.structured_types]).indexOf(f.structured) === -1) return false;
    if (f.segment && row[col.segment] !== f.segment) return false;
    if (f.url && String(row[col.url]).toLowerCase().indexOf(f.url) === -1) return false;
    return true;
  }

  // Missing values sort last in either direction; plain < and > keep 100,000 rows quick.
  function compareBy(index, direction) {
    return function (a, b) {
      var x = a[index], y = b[index];
      if (x === y) return 0;
      if (x === null) return 1;
      if (y === null) return -1;
      return (x < y ? -1 : 1) * direction;
    };
  }

  function refresh() {
    var f = currentFilter();
    view = rows.filter(function (row) { return keeps(row, f); });
    if (sortKey !== null) view.sort(compareBy(col[sortKey], sortDirection));
    page = 0;
    render();
  }

  function cell(tr, text, className) {
    var td = tr.insertCell();
    if (className) td.className = className;
    if (text !== null && text !== undefined) td.textContent = String(text);
    return td;
  }

  function urlCell(tr, url) {
    var td = cell(tr, null, "url");
    if (typeof url === "string" && HTTP_URL.test(url)) {
      var link = document.createElement("a");
      link.href = url;
      link.rel = "noopener noreferrer nofollow";
      link.textContent = url;
      td.appendChild(link);
    } else {
      td.textContent = url === null ? "" : String(url);
    }
  }

  function statusCell(tr, row) {
    var td = cell(tr, null, null);
    var pill = document.createElement("span");
    pill.className = "pill st-" + row[col.status_class];
    pill.textContent = row[col.status] !== null ? String(row[col.status]) : (row[col.note] || row[col.status_class]);
    td.appendChild(pill);
  }

  function render() {
    var pages = Math.max(1, Math.ceil(view.length / PAGE_SIZE));
    page = Math.min(page, pages - 1);
    var start = page * PAGE_SIZE;
    var fragment = document.createDocumentFragment();
    view.slice(start, start + PAGE_SIZE).forEach(function (row) {
      var tr = document.createElement("tr");
      keys.forEach(function (key) {
        var value = row[col[key]];
        if (key === "url") urlCell(tr, value);
        else if (key === "status") statusCell(tr, row);
        else if (key === "indexable") cell(tr, value ? "Yes" : "No", null);
        else if (key === "title") cell(tr, value, "title");
        else if (typeof value === "number") cell(tr, value.toLocaleString(), "num");
        else cell(tr, value, null);
      });
      fragment.appendChild(tr);
    });
    tbody.replaceChildren(fragment);
    countLine.textContent = view.length.toLocaleString() + " of " + rows.length.toLocaleString() + " URLs match";
    pageInfo.textContent = view.length
      ? "Rows " + (start + 1).toLocaleString() + "–" + Math.min(start + PAGE_SIZE, view.length).toLocaleString() +
        " · page " + (page + 1).toLocaleString() + " of " + pages.toLocaleString()
      : "No URL matches these filters";
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
    table.setAttribute("data-rendered", String(Date.now()));
  }

  function sortOn(th) {
    var key = th.getAttribute("data-key");
    sortDirection = key === sortKey ? -sortDirection : 1;
    sortKey = key;
    headers.forEach(function (other) { other.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", sortDirection === 1 ? "ascending" : "descending");
    refresh();
  }

  var typing = null;
  filters.url.addEventListener("input", function () {
    clearTimeout(typing);
    typing = setTimeout(refresh, 150);
  });
  [filters.statusClass, filters.type, filters.indexable, filters.depth, filters.structured, filters.segment].forEach(function (select) {
    if (select) select.addEventListener("change", refresh);
  });
  headers.forEach(function (th) {
    th.querySelector("button").addEventListener("click", function () { sortOn(th); });
  });
  prev.addEventListener("click", function () { page -= 1; render(); });
  next.addEventListener("click", function () { page += 1; render(); });

  fillFilterOptions();
  refresh();
})();
