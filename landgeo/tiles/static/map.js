// landgeo web map: MapLibre GL with landgeo's vector tiles and style; search through OGC API – Features items.
// Everything comes from this server (no other host). Data are shown with textContent only (never as HTML).
(function () {
  "use strict";
  var base = window.location.origin;
  var statusEl = document.getElementById("status");
  var resultsEl = document.getElementById("results");
  var tokenEl = document.getElementById("token");
  tokenEl.value = window.sessionStorage.getItem("landgeo-token") || "";
  tokenEl.addEventListener("change", function () { window.sessionStorage.setItem("landgeo-token", tokenEl.value); });

  function say(text, isError) {
    statusEl.textContent = text;
    statusEl.className = isError ? "error" : "";
  }

  function headers() {
    var h = { "Accept": "application/geo+json" };
    if (tokenEl.value.trim()) { h["Authorization"] = "Bearer " + tokenEl.value.trim(); }
    return h;
  }

  function getJson(path, params) {
    var url = new URL(path, base);
    Object.keys(params || {}).forEach(function (k) { url.searchParams.set(k, params[k]); });
    url.searchParams.set("f", "json");
    return fetch(url.toString(), { headers: headers() }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) { throw new Error(body.description || ("HTTP " + r.status)); }
        return body;
      });
    });
  }

  var map = new maplibregl.Map({
    container: "map", style: base + "/styles/basemap?f=mapbox", center: [106.0, 16.0], zoom: 5,
    hash: true, attributionControl: { compact: true }, preserveDrawingBuffer: true
  });
  window.landgeoMap = map;
  map.addControl(new maplibregl.NavigationControl(), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");

  map.on("load", function () {
    map.addSource("selection", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
    map.addLayer({ id: "selection-line", type: "line", source: "selection",
                   paint: { "line-color": "#0050ff", "line-width": 4 } });
    document.body.setAttribute("data-map-loaded", "1");
    if (pending) { select(pending); }
  });
  map.on("error", function (e) {  // shown to the user and to the browser test
    var message = (e && e.error && e.error.message) || String(e);
    document.body.setAttribute("data-map-error", message);
    say("Bản đồ lỗi — map error: " + message, true);
  });
  map.on("idle", function () { document.body.setAttribute("data-map-idle", String(Date.now())); });

  function setVisible(prefixes, on) {
    map.getStyle().layers.forEach(function (l) {
      if (prefixes.some(function (p) { return l.id.indexOf(p) === 0; })) {
        map.setLayoutProperty(l.id, "visibility", on ? "visible" : "none");
      }
    });
  }
  document.getElementById("show-findings").addEventListener("change", function (e) {
    setVisible(["findings-"], e.target.checked);
  });
  document.getElementById("show-sheets").addEventListener("change", function (e) {
    setVisible(["map-sheets-"], e.target.checked);
  });

  function bounds(geometry) {
    var b = [Infinity, Infinity, -Infinity, -Infinity];
    (function walk(c) {
      if (typeof c[0] === "number") {
        b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]);
        b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
      } else { c.forEach(walk); }
    })(geometry.coordinates);
    return b;
  }

  function label(f) {
    var p = f.properties;
    return "Xã " + p.commune_code + " · tờ " + p.sheet_number + " · thửa " + p.parcel_number +
      " · " + (p.land_use_codes || []).join("+") + (p.address ? " · " + p.address : "");
  }

  var pending = null;

  function select(feature) {
    showDetails(feature.id, feature.properties);
    if (!map.getSource("selection")) { pending = feature; return; }
    pending = null;
    map.getSource("selection").setData({ type: "FeatureCollection", features: [feature] });
    var b = bounds(feature.geometry);
    map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { maxZoom: 19, padding: 80, duration: 0 });
  }

  function showResults(body) {
    resultsEl.textContent = "";
    var features = body.features || [];
    features.forEach(function (f) {
      var li = document.createElement("li");
      li.className = "result";
      li.setAttribute("data-id", String(f.id));
      li.textContent = label(f);
      li.addEventListener("click", function () { select(f); });
      resultsEl.appendChild(li);
    });
    say(features.length ? features.length + " thửa — parcel(s) found" : "Không tìm thấy — nothing found");
    if (features.length) { select(features[0]); }
  }

  function communeCode(text) {
    text = text.trim();
    if (/^[0-9]{5}$/.test(text)) { return Promise.resolve(text); }
    return getJson("/collections/admin-units/items", { name: text, level: "commune", limit: 1 }).then(function (b) {
      if (!b.features.length) { throw new Error("no commune named " + text); }
      return b.features[0].properties.code;
    });
  }

  document.getElementById("parcel-search").addEventListener("submit", function (e) {
    e.preventDefault();
    var sheet = document.getElementById("q-sheet").value.trim();
    var parcel = document.getElementById("q-parcel").value.trim();
    say("…");
    communeCode(document.getElementById("q-commune").value).then(function (code) {
      var q = { commune_code: code, limit: 50 };
      if (sheet) { q.sheet_number = sheet; }
      if (parcel) { q.parcel_number = parcel; }
      return getJson("/collections/parcels/items", q);
    }).then(showResults).catch(function (err) { say(err.message, true); });
  });

  document.getElementById("address-search").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = document.getElementById("q-address").value.trim().replace(/'/g, "''").replace(/[%_\\]/g, "");
    say("…");
    getJson("/collections/parcels/items", {
      filter: "CASEI(address) LIKE CASEI('%" + text + "%')", "filter-lang": "cql2-text", limit: 50
    }).then(showResults).catch(function (err) { say(err.message, true); });
  });

  var PUBLIC = ["commune_code", "sheet_number", "parcel_number", "land_use_codes", "declared_area", "computed_area",
                "address", "province_code", "valid_from", "valid_to", "area_srid", "source_srid"];

  function showDetails(id, props) {
    var table = document.getElementById("props");
    table.textContent = "";
    var row = function (k, v) {
      var tr = document.createElement("tr");
      var th = document.createElement("th"); th.textContent = k;
      var td = document.createElement("td"); td.textContent = Array.isArray(v) ? v.join("+") : String(v);
      tr.appendChild(th); tr.appendChild(td); table.appendChild(tr);
    };
    row("id", id);
    PUBLIC.forEach(function (k) { if (props[k] !== undefined && props[k] !== null) { row(k, props[k]); } });
    document.getElementById("details").hidden = false;
    // The register (rights, parties) comes with the feature when the API lets the token's officer see it.
    var reg = document.getElementById("register");
    reg.hidden = true;
    getJson("/collections/parcels/items/" + encodeURIComponent(id)).then(function (f) {
      var extra = {};
      Object.keys(f.properties || {}).forEach(function (k) {
        if (PUBLIC.indexOf(k) < 0) { extra[k] = f.properties[k]; }
      });
      ["rights", "parties", "land_rights"].forEach(function (k) { if (f[k]) { extra[k] = f[k]; } });
      if (Object.keys(extra).length) {
        document.getElementById("register-body").textContent = JSON.stringify(extra, null, 1);
        reg.hidden = false;
      }
    }).catch(function () { /* public view: nothing more */ });
  }

  // /map?commune=…&sheet=…&parcel=… or /map?address=… fills the form and searches (links, bookmarks, tests).
  function searchFromUrl() {
    var q = new URLSearchParams(window.location.search);
    if (q.get("commune")) {
      document.getElementById("q-commune").value = q.get("commune");
      document.getElementById("q-sheet").value = q.get("sheet") || "";
      document.getElementById("q-parcel").value = q.get("parcel") || "";
      document.getElementById("parcel-search").requestSubmit();
    } else if (q.get("address")) {
      document.getElementById("q-address").value = q.get("address");
      document.getElementById("address-search").requestSubmit();
    }
  }

  searchFromUrl();

  map.on("click", function (e) {
    var fills = map.getStyle().layers.map(function (l) { return l.id; })
      .filter(function (id) { return id.indexOf("parcels-fill") === 0; });
    var hit = map.queryRenderedFeatures(e.point, { layers: fills });
    if (!hit.length) { return; }
    var f = hit[0];
    var props = Object.assign({}, f.properties);
    if (typeof props.land_use_codes === "string") { props.land_use_codes = props.land_use_codes.split("+"); }
    showDetails(f.id, props);
  });
})();
