/* Cell renderers for the grids (dash-ag-grid reads them from window.dashAgGridComponentFunctions).
   Served from the package like every other asset. */
var dagcomponentfuncs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

/* Weekly mean pain as a small line (0-10 scale fixed, so sparklines compare across clients). */
dagcomponentfuncs.PainSparkline = function (props) {
  var values = props.value || [];
  var width = 96, height = 26, pad = 2;
  var points = [];
  var n = values.length;
  for (var i = 0; i < n; i++) {
    var v = values[i];
    if (v === null || v === undefined) { continue; }
    var x = n === 1 ? width / 2 : pad + (i * (width - 2 * pad)) / (n - 1);
    var y = pad + ((10 - v) * (height - 2 * pad)) / 10;
    points.push(x.toFixed(1) + "," + y.toFixed(1));
  }
  if (points.length === 0) {
    return React.createElement("span", { className: "text-muted small" }, "no pain ratings");
  }
  var last = points[points.length - 1].split(",");
  var label = "weekly pain: " + values.map(function (v) { return v === null ? "–" : v.toFixed(1); }).join(", ");
  return React.createElement(
    "svg",
    { width: width, height: height, className: "sparkline", role: "img", "aria-label": label },
    React.createElement("title", null, label),
    React.createElement("polyline", { points: points.join(" "), fill: "none", stroke: "#0072B2", strokeWidth: 1.5 }),
    React.createElement("circle", { cx: last[0], cy: last[1], r: 2.5, fill: "#0072B2" })
  );
};

/* Flags in priority order, each a badge; beside it, the evidence of the flag in words when the row
   has it (`flag_evidence`: one "flag: why" line per flag), so nobody has to hover to read why. The
   tooltip says the same, or the flag's meaning in plain words when there is no evidence. */
dagcomponentfuncs.FlagBadges = function (props) {
  var present = (props.value || "").split(";").filter(function (f) { return f; });
  var order = props.order || present;
  var shown = order.filter(function (f) { return present.indexOf(f) >= 0; });
  if (shown.length === 0) {
    return React.createElement("span", { className: "text-muted small" }, "–");
  }
  var why = {};
  ((props.data && props.data.flag_evidence) || "").split("\n").forEach(function (line) {
    var colon = line.indexOf(": ");
    if (colon > 0) { why[line.slice(0, colon)] = line.slice(colon + 2); }
  });
  return React.createElement(
    "span",
    { className: why[shown[0]] ? "flag-lines" : "flags" },
    shown.map(function (f) {
      var badge = React.createElement(
        "span",
        { key: "badge", className: "flag flag-" + f, title: why[f] || (props.explanations || {})[f] || f },
        (props.labels || {})[f] || f
      );
      if (!why[f]) { return React.cloneElement(badge, { key: f }); }
      return React.createElement("span", { key: f, className: "flag-line" }, badge,
        React.createElement("span", { key: "why", className: "flag-why" }, why[f]));
    })
  );
};
