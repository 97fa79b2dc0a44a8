// Overview: the spot-order share and store score trend against their minimums.
(function () {
  "use strict";
  var el = document.getElementById("chart-eligibility");
  if (!el || !window.echarts) { return; }
  var d = el.dataset;
  var t = JSON.parse(d.trend);
  var chart = echarts.init(el);
  chart.setOption({
    animation: false, tooltip: { trigger: "axis" }, legend: { top: 0 },
    grid: { top: 36, left: 48, right: 48, bottom: 28 },
    xAxis: { type: "category", data: t.share.map(function (p) { return p[0]; }) },
    yAxis: [{ type: "value", min: 0, max: 100, name: "%" },
            { type: "value", min: 0, max: t.max_score, name: d.labelScore }],
    series: [
      { type: "line", name: d.labelShare, data: t.share.map(function (p) { return p[1]; }),
        markLine: { symbol: "none", label: { position: "insideEndTop", formatter: d.labelMin + " {c}%" },
                    data: [{ yAxis: t.min_share }] } },
      { type: "line", name: d.labelScore, yAxisIndex: 1, xAxisIndex: 0,
        data: t.share.map(function (p) {
          var hit = t.score.filter(function (s) { return s[0] <= p[0]; }).pop();
          return hit ? hit[1] : null;
        }) }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
}());
