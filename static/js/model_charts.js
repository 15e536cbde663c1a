/* The model page's learning curve: measured accuracy against labels with each point's 95% interval (a
   whisker), the fitted forecast (dashed) and the target line. The data comes from the page's
   <script type="application/json" id="curve-data">: points are [labels, accuracy, low, high]. */
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("curve-data"), canvas = document.getElementById("learning-curve");
    if (!source || !canvas || !window.Chart) return;
    var data = JSON.parse(source.textContent);
    var css = getComputedStyle(document.documentElement);
    var color = function (name, fallback) { return css.getPropertyValue(name).trim() || fallback; };
    var accent = color("--accent", "#2456a6"), muted = color("--muted", "#5f6b7a"), warning = color("--warning", "#9a5b00");
    var xy = function (pairs) { return pairs.map(function (p) { return { x: p[0], y: p[1] }; }); };

    var all = data.points.concat(data.curve);
    var xs = all.map(function (p) { return p[0]; });
    var xMin = Math.min.apply(null, xs), xMax = Math.max.apply(null, xs), logScale = xMax > xMin;
    if (!logScale) { xMin = 0; xMax *= 2; } // a single measurement: show it mid-axis
    var lows = data.points.map(function (p) { return p[2]; });
    var yMin = Math.min.apply(null, all.map(function (p) { return p[1]; }).concat(lows, [data.target]));
    var percent = function (value) { return Math.round(value * 1000) / 10 + "%"; };
    // Label every 1, 2 and 5 of each power of ten; the log scale's other gridlines stay unlabeled. Points within
    // one decade (300 to 800 labels) hold fewer than two of them: then about five ticks, the ends included, are.
    var isRound = function (value) {
      var lead = value / Math.pow(10, Math.floor(Math.log10(value) + 1e-9));
      return [1, 2, 5].some(function (d) { return Math.abs(lead - d) < 1e-6; });
    };
    var roundCount = function (value, index, ticks) {
      var round = ticks.filter(function (tick) { return isRound(tick.value); }).length;
      if (round >= 2) return isRound(value) ? value.toLocaleString() : "";
      var step = Math.max(1, Math.ceil(ticks.length / 5));
      return index % step === 0 || index === ticks.length - 1 ? Math.round(value).toLocaleString() : "";
    };

    // A measured point is an estimate: its interval is drawn as a whisker, so nobody reads it as exact.
    var whiskers = {
      id: "intervals",
      afterDatasetsDraw: function (chart) {
        var x = chart.scales.x, y = chart.scales.y, ctx = chart.ctx;
        ctx.save();
        ctx.strokeStyle = accent;
        ctx.lineWidth = 1.5;
        data.points.forEach(function (p) {
          var px = x.getPixelForValue(p[0]), top = y.getPixelForValue(p[3]), bottom = y.getPixelForValue(p[2]);
          ctx.beginPath();
          ctx.moveTo(px, top); ctx.lineTo(px, bottom);
          ctx.moveTo(px - 4, top); ctx.lineTo(px + 4, top);
          ctx.moveTo(px - 4, bottom); ctx.lineTo(px + 4, bottom);
          ctx.stroke();
        });
        ctx.restore();
      }
    };

    new window.Chart(canvas, {
      type: "line",
      plugins: [whiskers],
      data: {
        datasets: [
          { label: "Measured accuracy (95% interval)", data: xy(data.points), borderColor: accent, backgroundColor: accent,
            pointRadius: 4, pointHoverRadius: 6, borderWidth: 2, clip: 8 },
          { label: "Forecast", data: xy(data.curve), borderColor: muted, borderDash: [6, 4], borderWidth: 1.5,
            pointRadius: 0, pointHitRadius: 4 },
          { label: "Target " + percent(data.target), data: [{ x: xMin, y: data.target }, { x: xMax, y: data.target }],
            borderColor: warning, borderDash: [2, 3], borderWidth: 1.5, pointRadius: 0, pointHitRadius: 0 }
        ]
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: "nearest", intersect: false },
        scales: {
          // Accuracy grows roughly with the logarithm of the labels: a log axis keeps the measured points apart.
          x: { type: logScale ? "logarithmic" : "linear", min: xMin, max: xMax,
               title: { display: true, text: logScale ? "Labels (log scale)" : "Labels" },
               ticks: logScale ? { autoSkip: false, callback: roundCount } : {} },
          y: { min: Math.max(0, Math.floor(yMin * 10) / 10 - 0.05), max: 1,
               title: { display: true, text: "Accuracy" }, ticks: { callback: percent } }
        },
        plugins: {
          legend: { labels: { boxHeight: 2 } },
          tooltip: {
            callbacks: {
              label: function (item) {
                var point = item.datasetIndex === 0 ? data.points[item.dataIndex] : null;
                return item.dataset.label + ": " + percent(item.parsed.y) +
                  (point ? " (" + percent(point[2]) + "–" + percent(point[3]) + ")" : "") + " at " +
                  Math.round(item.parsed.x).toLocaleString() + " labels";
              }
            }
          }
        }
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
