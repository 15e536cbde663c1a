/* The quality page's charts: progress (products labeled so far) and throughput (answers) per day, the label
   distribution and the agreement per label. The data comes from <script type="application/json" id="quality-charts">;
   each chart's numbers are also in a table under it, so nothing here is the only way to read them. */
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("quality-charts");
    if (!source || !window.Chart) return;
    var data = JSON.parse(source.textContent);
    var css = getComputedStyle(document.documentElement);
    var color = function (name, fallback) { return css.getPropertyValue(name).trim() || fallback; };
    var accent = color("--accent", "#2456a6"), warning = color("--warning", "#9a5b00");
    var percent = function (value) { return Math.round(value * 1000) / 10 + "%"; };
    var base = { animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } } };

    function chart(id, config) {
      var canvas = document.getElementById(id);
      if (canvas) new window.Chart(canvas, config);
    }

    function options(extra) { return Object.assign({}, base, extra); }

    // Long label paths: the axis shows the leaf, the tooltip the whole path.
    function leaf(labels) {
      return function (value) { var path = labels[value] || ""; return path.split(" > ").pop(); };
    }

    if (data.progress) {
      chart("chart-progress", {
        type: "line",
        data: { labels: data.progress.labels, datasets: [{ label: "Products labeled so far", data: data.progress.values,
          borderColor: accent, backgroundColor: accent, borderWidth: 2, pointRadius: 3, tension: 0.1 }] },
        options: options({ scales: { y: { beginAtZero: true, title: { display: true, text: "Products labeled" } } } })
      });
    }
    if (data.throughput) {
      chart("chart-throughput", {
        type: "bar",
        data: { labels: data.throughput.labels, datasets: [{ label: "Answers", data: data.throughput.values,
          backgroundColor: accent, maxBarThickness: 48 }] },
        options: options({ scales: { y: { beginAtZero: true, title: { display: true, text: "Answers per day" } } } })
      });
    }
    if (data.distribution) {
      chart("chart-distribution", {
        type: "bar",
        data: { labels: data.distribution.labels, datasets: [{ label: "Answers", data: data.distribution.values,
          backgroundColor: accent }] },
        options: options({ indexAxis: "y", scales: {
          x: { beginAtZero: true, title: { display: true, text: "Answers" } },
          y: { ticks: { autoSkip: false, callback: leaf(data.distribution.labels) } } } })
      });
    }
    if (data.agreement) {
      chart("chart-agreement", {
        type: "bar",
        data: { labels: data.agreement.labels, datasets: [{ label: "Specific agreement", data: data.agreement.values,
          backgroundColor: data.agreement.values.map(function (v) { return v < 0.6 ? warning : accent; }) }] },
        options: options({
          indexAxis: "y",
          scales: { x: { min: 0, max: 1, ticks: { callback: percent }, title: { display: true, text: "Specific agreement" } },
                    y: { ticks: { autoSkip: false, callback: leaf(data.agreement.labels) } } },
          plugins: { legend: { display: false }, tooltip: { callbacks: {
            label: function (item) {
              return percent(item.parsed.x) + " over " + data.agreement.answers[item.dataIndex] + " answers";
            } } } }
        })
      });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
