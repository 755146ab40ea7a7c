/* parkmon web application: draws the charts described by the JSON data blocks of a page.
   No inline script anywhere (the Content-Security-Policy allows none); ECharts is served by the
   application itself. Each chart element names its data block: <div data-chart="ID">. */
(function () {
  "use strict";
  var locale = document.documentElement.lang === "en" ? "EN" : "ZH";

  function line(name, values, dashed, connect) {
    return {
      name: name,
      type: "line",
      data: values,
      connectNulls: !!connect,
      showSymbol: true,
      lineStyle: dashed ? { type: "dashed" } : undefined
    };
  }

  function option(spec, picked) {
    var series = [];
    var legend = [];
    var lines = picked ? picked.series : spec.series;
    lines.forEach(function (s) {
      series.push(line(s.name, s.values, s.dashed, s.connect));
      legend.push(s.name);
    });
    if (spec.band) {  // the projection's band: its low edge (invisible) and the span above it
      series.push({
        name: spec.band.name, type: "line", data: spec.band.low, stack: "band",
        symbol: "none", lineStyle: { opacity: 0 }, tooltip: { show: false }
      });
      series.push({
        name: spec.band.name, type: "line", data: spec.band.span, stack: "band",
        symbol: "none", lineStyle: { opacity: 0 },
        areaStyle: { color: "#c8102e", opacity: 0.15 }, tooltip: { show: false }
      });
      legend.push(spec.band.name);
    }
    if (spec.target !== null && spec.target !== undefined) {
      series.push({
        name: spec.target_name,
        type: "line",
        data: [],
        markLine: {
          symbol: "none",
          lineStyle: { type: "dotted", color: "#ba2525" },
          label: { formatter: spec.target_name },
          data: [{ yAxis: spec.target }]
        }
      });
    }
    if (spec.spark) {  // a goal card's sparkline: the line and the target, nothing else
      return {
        animation: false,
        grid: { left: 2, right: 2, top: 4, bottom: 2 },
        xAxis: { type: "category", data: spec.x, show: false },
        yAxis: { type: "value", scale: true, show: false },
        tooltip: { trigger: "axis" },
        series: series.map(function (s) { s.showSymbol = false; return s; })
      };
    }
    return {
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { data: legend, top: 0 },
      grid: { left: 60, right: 30, top: 40, bottom: 30 },
      xAxis: { type: "category", data: spec.x },
      yAxis: { type: "value", scale: true, name: picked ? picked.unit : spec.unit || "" },
      series: series
    };
  }

  var drawn = 0;
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var block = document.getElementById(el.getAttribute("data-chart"));
    if (!block) { return; }
    var spec = JSON.parse(block.textContent);
    var chart = echarts.init(el, null, { locale: locale, renderer: "svg" });
    var chooser = el.getAttribute("data-chooser");
    var select = chooser ? document.getElementById(chooser) : null;
    function draw() {
      var picked = spec.choices ? spec.choices[select ? select.selectedIndex : 0] : null;
      chart.setOption(option(spec, picked), true);
    }
    if (select) { select.addEventListener("change", draw); }
    draw();
    window.addEventListener("resize", function () { chart.resize(); });
    drawn += 1;
  });
  document.documentElement.setAttribute("data-charts-drawn", String(drawn));
})();
