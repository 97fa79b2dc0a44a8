// Live session view: one server-sent event every 500 ms (built from one database read)
// updates the counters and the two ECharts charts. Times shown in the shop's zone.
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root) { return; }
  var d = root.dataset;
  var num = new Intl.NumberFormat(d.lang);
  var cents = new Intl.NumberFormat(d.lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  var money = function (fen) { return "¥" + cents.format(fen / 100); };
  var hm = new Intl.DateTimeFormat(d.lang, { timeZone: d.zone, hour: "2-digit", minute: "2-digit", hour12: false });
  var hms = new Intl.DateTimeFormat(d.lang, { timeZone: d.zone, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  var status = root.querySelector("[data-testid=live-status]");
  var burn = echarts.init(document.getElementById("chart-burn"));
  var orders = echarts.init(document.getElementById("chart-orders"));
  var timeAxis = function (fmt) {
    return { type: "time", axisLabel: { formatter: function (v) { return fmt.format(new Date(v)); } } };
  };
  burn.setOption({
    title: { text: d.labelBurn, left: 0, textStyle: { fontSize: 14 } }, animation: false,
    tooltip: { trigger: "axis", valueFormatter: function (v) { return num.format(v); } },
    legend: { top: 32, left: 0 }, grid: { top: 76, left: 56, right: 16, bottom: 32 },
    xAxis: timeAxis(hms), yAxis: { type: "value", minInterval: 1 }, series: []
  });
  orders.setOption({
    title: { text: d.labelOrders, left: 0, textStyle: { fontSize: 14 } }, animation: false,
    tooltip: { trigger: "axis" }, grid: { top: 48, left: 56, right: 16, bottom: 32 },
    xAxis: timeAxis(hm), yAxis: { type: "value", minInterval: 1 },
    series: [{ type: "bar", name: d.labelOrders, data: [] }]
  });
  var text = function (row, field, value) {
    var el = row.querySelector("[data-field=" + field + "]");
    if (el) { el.textContent = value; }
  };
  var show = function (snap) {
    root.querySelector("[data-testid=orders-total]").textContent = num.format(snap.orders_total);
    root.querySelector("[data-testid=orders-minute]").textContent = num.format(snap.orders_last_minute);
    var series = [];
    var atLeast = snap.risk_truncated ? d.labelAtleast + " " : "";
    snap.skus.forEach(function (s) {
      var row = root.querySelector("[data-testid=live-sku][data-sku-id='" + s.sku_id + "']");
      var r = s.risk;
      if (row) {
        text(row, "risk-due-soon", atLeast + num.format(r.due_soon));
        text(row, "risk-overdue", atLeast + num.format(r.overdue));
        text(row, "risk-exposure", atLeast + money(r.exposure_fen));
        text(row, "risk-batch-lines", r.batch_lines === null ? "—" : num.format(r.batch_lines));
        text(row, "risk-batch-exposure", r.batch_lines === null ? "" : money(r.batch_fen));
      }
      ["spot", "presale"].forEach(function (t) {
        var tier = s.tiers[t];
        if (row) {
          text(row, t + "-sold", tier ? num.format(tier.sold) : "—");
          text(row, t + "-quantity", tier ? num.format(tier.quantity) : "—");
          row.dataset[t + "Sold"] = tier ? tier.sold : "";
        }
        if (s.burn[t]) {
          series.push({ type: "line", step: "end", showSymbol: false,
                        name: s.code + " · " + (t === "spot" ? d.labelSpot : d.labelPresale),
                        data: s.burn[t] });
        }
      });
      if (row) {
        text(row, "pace", num.format(s.spot_pace_per_minute));
        var spot = s.tiers.spot;
        text(row, "runout", s.spot_runs_out ? hm.format(new Date(s.spot_runs_out))
          : (spot && spot.quantity > 0 && spot.available === 0 ? d.labelSoldout : d.labelNopace));
      }
    });
    burn.setOption({ series: series }, { replaceMerge: ["series"] });
    orders.setOption({ series: [{ data: snap.orders_per_minute }] });
    status.textContent = hms.format(new Date(snap.now));
    status.dataset.state = "live";
    root.dataset.updates = String(Number(root.dataset.updates || 0) + 1);
  };
  var source = new EventSource(d.stream);
  source.addEventListener("live", function (ev) { show(JSON.parse(ev.data)); });
  source.onerror = function () { status.dataset.state = "reconnecting"; status.textContent = "…"; };
  window.addEventListener("resize", function () { burn.resize(); orders.resize(); });
  window.addEventListener("beforeunload", function () { source.close(); });
}());
