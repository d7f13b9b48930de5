// The desk's charts and maps. The pages carry their data as JSON blocks; Chart.js and Leaflet draw.
"use strict";
(function () {
  const COLORS = ["#2563eb", "#d97706", "#059669", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#dc2626"];
  const STATES = { late: "#dc2626", open: "#f59e0b", answered: "#2563eb", closed: "#059669", rejected: "#6b7280" };

  function json(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function chart(id, config) {
    const canvas = document.getElementById(id);
    if (!canvas) return;
    new Chart(canvas, config);
    canvas.dataset.drawn = "1";
  }

  function charts() {
    const data = json("desk-data");
    if (!data || typeof Chart === "undefined") return;
    Chart.defaults.animation = false;
    Chart.defaults.maintainAspectRatio = false;
    const count = { beginAtZero: true, ticks: { precision: 0 } };
    chart("chart-weekly", {
      type: "bar",
      data: {
        labels: data.weeks,
        datasets: data.weekly.map((series, i) => ({
          label: series.label, data: series.data, backgroundColor: COLORS[i % COLORS.length],
        })),
      },
      options: { scales: { x: { stacked: true }, y: { ...count, stacked: true } } },
    });
    chart("chart-ontime", {
      type: "bar",
      data: {
        labels: data.onTime.map((row) => row.label),
        datasets: [{
          label: "Tepat waktu (%)",
          data: data.onTime.map((row) => (row.share === null ? null : Math.round(row.share * 100))),
          backgroundColor: data.onTime.map((row, i) => COLORS[i % COLORS.length]),
        }],
      },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, max: 100 } } },
    });
    chart("chart-categories", {
      type: "bar",
      data: {
        labels: data.categories.map((row) => row.label),
        datasets: [{ label: "Aduan", data: data.categories.map((row) => row.count), backgroundColor: "#0891b2" }],
      },
      options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: count } },
    });
  }

  function withTiles(map) {
    // Without tiles (an intranet that blocks them, or none configured) the pins still show.
    const url = json("tiles");
    if (!url) return;
    const osm = url.indexOf("openstreetmap") >= 0;
    L.tileLayer(url, { maxZoom: 19, attribution: osm ? "© kontributor OpenStreetMap" : "" }).addTo(map);
  }

  function pin(lat, lon, state) {
    return L.circleMarker([lat, lon], {
      radius: 8, color: "#ffffff", weight: 2, fillColor: STATES[state] || "#6b7280", fillOpacity: 0.95,
      className: "pin pin-" + state,
    });
  }

  function bigMap() {
    const element = document.getElementById("map");
    const pins = json("map-data");
    if (!element || !pins || typeof L === "undefined") return;
    const map = L.map(element);
    withTiles(map);
    const layer = L.featureGroup();
    for (const item of pins) {
      const box = document.createElement("div");
      const link = document.createElement("a");
      link.href = "/desk/aduan/" + encodeURIComponent(item.ticket);
      link.textContent = item.ticket;
      const text = document.createElement("div");
      text.textContent = item.text;
      box.append(link, document.createTextNode(" · " + item.opd + (item.category ? " · " + item.category : "")), text);
      layer.addLayer(pin(item.lat, item.lon, item.state).bindPopup(box));
    }
    layer.addTo(map);
    if (pins.length) map.fitBounds(layer.getBounds(), { padding: [30, 30], maxZoom: 16 });
    else map.setView([-2.5, 118], 4);
    element.dataset.pins = String(pins.length);
  }

  function miniMap() {
    const element = document.getElementById("mini-map");
    if (!element || typeof L === "undefined") return;
    const lat = Number(element.dataset.lat), lon = Number(element.dataset.lon);
    const map = L.map(element).setView([lat, lon], 16);
    withTiles(map);
    pin(lat, lon, element.dataset.state).addTo(map);
  }

  charts();
  bigMap();
  miniMap();
})();
