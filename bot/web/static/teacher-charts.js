/* The class's charts, drawn by Chart.js (vendored: static/vendor/chartjs/, see
   VENDOR.md) from the counts the server already masked: a count of 1 or 2
   arrives as {count: null, few: true} and is drawn as a short striped bar
   labelled "a few", never a length of its own. Counts only, never text a child
   wrote. Used by the dashboard, the end-of-lesson summary and the projector. */
(function () {
  "use strict";
  if (!window.Chart) return;
  var Chart = window.Chart;
  var COLOURS = {
    started: "#4b2f8f",
    finished: "#2d1b5e",
    spotted: "#1d6b3a",
    missed: "#a34b00",
    safe: "#1d6b3a",
    risky: "#a34b00",
    vote: "#4b2f8f",
  };
  var INK = "#1f1736";
  var FEW_LENGTH = 1.5; // a hidden count (1-2): the same stub for both

  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", Arial, sans-serif';
  Chart.defaults.color = INK;
  Chart.defaults.animation = false;

  function striped(colour) {
    var tile = document.createElement("canvas");
    tile.width = 8;
    tile.height = 8;
    var g = tile.getContext("2d");
    g.fillStyle = "#ffffff";
    g.fillRect(0, 0, 8, 8);
    g.strokeStyle = colour;
    g.lineWidth = 2.5;
    g.beginPath();
    g.moveTo(0, 8);
    g.lineTo(8, 0);
    g.moveTo(-2, 2);
    g.lineTo(2, -2);
    g.moveTo(6, 10);
    g.lineTo(10, 6);
    g.stroke();
    return g.createPattern(tile, "repeat");
  }

  function value(cell) {
    if (!cell) return 0;
    if (cell.few) return FEW_LENGTH;
    return cell.count || 0;
  }
  function label(cell, few) {
    if (!cell) return "0";
    return cell.few ? few : String(cell.count || 0);
  }

  /* Writes each bar's count (or "a few") at its end: read at a glance, no hovering. */
  var valueLabels = {
    id: "lumiValueLabels",
    afterDatasetsDraw: function (chart, args, options) {
      var ctx = chart.ctx;
      ctx.save();
      ctx.fillStyle = INK;
      ctx.font = "700 " + (options.size || 14) + "px " + Chart.defaults.font.family;
      ctx.textBaseline = "middle";
      chart.data.datasets.forEach(function (dataset, i) {
        var meta = chart.getDatasetMeta(i);
        if (meta.hidden) return;
        meta.data.forEach(function (bar, j) {
          var text = (dataset.lumiLabels || [])[j];
          if (text === undefined) return;
          ctx.textAlign = "left";
          ctx.fillText(text, bar.x + 6, bar.y);
        });
      });
      ctx.restore();
    },
  };

  /* Long category names on two or three lines instead of being cut. */
  function wrap(text, width) {
    var lines = [];
    var line = "";
    String(text).split(/\s+/).forEach(function (word) {
      if (line && (line + " " + word).length > width) {
        lines.push(line);
        line = word;
      } else {
        line = line ? line + " " + word : word;
      }
    });
    if (line) lines.push(line);
    return lines.length > 1 ? lines : lines[0] || "";
  }

  function barChart(canvas, labels, series, few, options) {
    options = options || {};
    labels = labels.map(function (l) { return wrap(l, options.wrap || 22); });
    var max = 0;
    var datasets = series.map(function (s) {
      var data = s.cells.map(value);
      data.forEach(function (v) { max = Math.max(max, v); });
      var colour = COLOURS[s.key] || COLOURS.vote;
      return {
        label: s.label,
        data: data,
        lumiLabels: s.cells.map(function (c) { return label(c, few); }),
        backgroundColor: s.cells.map(function (c) { return c && c.few ? striped(colour) : colour; }),
        borderColor: colour,
        borderWidth: 2,
        barPercentage: 0.85,
        categoryPercentage: 0.8,
      };
    });
    var size = options.size || 14;
    var config = {
      type: "bar",
      data: { labels: labels, datasets: datasets },
      plugins: [valueLabels],
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        layout: { padding: { right: size * 5 } },
        scales: {
          x: {
            beginAtZero: true,
            suggestedMax: Math.max(3, max),
            ticks: { precision: 0, font: { size: size } },
            grid: { color: "#e4dcf3" },
          },
          y: { ticks: { font: { size: size, weight: "600" } }, grid: { display: false } },
        },
        plugins: {
          legend: {
            display: series.length > 1,
            labels: {
              font: { size: size },
              // the series' own colour (a striped "a few" bar must not colour the legend)
              generateLabels: function (chart) {
                return chart.data.datasets.map(function (d, i) {
                  return {
                    text: d.label, fillStyle: d.borderColor, strokeStyle: d.borderColor,
                    lineWidth: 0, hidden: !chart.isDatasetVisible(i), datasetIndex: i,
                    fontColor: INK,
                  };
                });
              },
            },
          },
          tooltip: {
            callbacks: {
              label: function (item) {
                return item.dataset.label + ": " + item.dataset.lumiLabels[item.dataIndex];
              },
            },
          },
          lumiValueLabels: { size: size },
        },
      },
    };
    var existing = Chart.getChart(canvas);
    if (existing) {
      existing.data = config.data;
      existing.options = config.options;
      existing.update("none");
      return existing;
    }
    return new Chart(canvas, config);
  }

  function words(root) {
    var get = function (name) { return root.getAttribute("data-" + name) || name; };
    return {
      few: get("few"), started: get("started"), finished: get("finished"),
      spotted: get("spotted"), missed: get("missed"), safe: get("safe"), risky: get("risky"),
    };
  }

  function sized(canvas, rows) {
    var area = canvas.parentNode;
    area.style.height = Math.max(160, 56 + rows * 44) + "px"; // CSSOM: allowed by the CSP
  }

  /* The dashboard's and the summary's charts from data.json. */
  function figures(root, data) {
    var w = words(root);
    var progress = document.getElementById("chart-progress");
    if (progress) {
      var stories = data.stories || [];
      sized(progress, stories.length * 2);
      barChart(progress, stories.map(function (s) { return s.title; }), [
        { key: "started", label: w.started, cells: stories.map(function (s) { return s.started; }) },
        { key: "finished", label: w.finished, cells: stories.map(function (s) { return s.finished; }) },
      ], w.few);
    }
    var tactics = document.getElementById("chart-tactics");
    if (tactics) {
      var rows = data.tactics || [];
      sized(tactics, rows.length * 2);
      barChart(tactics, rows.map(function (x) { return x.name; }), [
        { key: "spotted", label: w.spotted, cells: rows.map(function (x) { return x.spotted; }) },
        { key: "missed", label: w.missed, cells: rows.map(function (x) { return x.missed; }) },
      ], w.few);
    }
    (data.steps || []).forEach(function (story) {
      var canvas = document.getElementById("chart-steps-" + story.id);
      if (!canvas) return;
      sized(canvas, story.steps.length * 2);
      barChart(canvas, story.steps.map(function (s) { return s.label; }), [
        { key: "safe", label: w.safe, cells: story.steps.map(function (s) { return s.safe; }) },
        { key: "risky", label: w.risky, cells: story.steps.map(function (s) { return s.risky; }) },
      ], w.few);
    });
    root.setAttribute("data-charts", String(Number(root.getAttribute("data-charts") || "0") + 1));
  }

  /* The projector's live vote: one bar per choice (A, B, C...). */
  function votes(canvas, data, few) {
    var choices = data.choices || [];
    var size = Math.max(16, Math.round(window.innerHeight / 40));
    return barChart(canvas, choices.map(function (c) { return c.letter; }), [
      { key: "vote", label: "", cells: choices.map(function (c) { return c.votes; }) },
    ], few, { size: size });
  }

  window.LumiCharts = { figures: figures, votes: votes };

  /* The summary page draws once (it is printed, not watched). */
  var summary = document.getElementById("summary");
  if (summary) {
    fetch(summary.getAttribute("data-endpoint"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) figures(summary, data); })
      .catch(function () { /* the tables below hold the same figures */ });
    window.addEventListener("beforeprint", function () {
      Object.keys(Chart.instances).forEach(function (k) { Chart.instances[k].resize(); });
    });
  }
})();
