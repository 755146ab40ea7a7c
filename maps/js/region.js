// parkmon regional map client: draws everything from DATA; outside text only via textContent.
var L_ = DATA.labels;
// Rebuild one object per carrier from the compact columns (see maps/region.py: columns).
var C = DATA.parks, PARKS = [];
function look(col, i) {
  var c = C[col];
  return c.table[c.chars !== undefined ? parseInt(c.chars.charAt(i), 36) : c.list[i]];
}
for (var i = 0; i < C.id.length; i++) {
  var stars = {}, score = {};
  DATA.years.forEach(function (y) {
    var s = C.stars[y].charAt(i);
    stars[y] = s === '-' ? null : Number(s);
    var v = C.score[y][i];
    score[y] = v == null ? null : v / 10;
  });
  PARKS.push({id: C.id[i], name: C.name[i], lon: C.lon0 + C.x[i] / 1e5, lat: C.lat0 + C.y[i] / 1e5,
    approx: C.approx.charAt(i) === '1', highlight: C.highlight.charAt(i) === '1',
    kind: look('kind', i), kind_label: look('kind_label', i), level_label: look('level_label', i),
    district: look('district', i), role: look('role', i), role_label: look('role_label', i),
    stars: stars, score: score});
}
function el(tag, text, cls) { var e = document.createElement(tag); if (text != null) e.textContent = String(text); if (cls) e.className = cls; return e; }
var renderer = L.canvas({padding: 0.3});
map.setMaxBounds(null);
var base = L.geoJSON(DATA.districts, {style: {color: '#7a7a7a', weight: 1, fillColor: '#f3efe6', fillOpacity: 0.9}, renderer: renderer,
  onEachFeature: function (f, layer) { layer.bindTooltip(function () { return el('span', f.properties.name); }, {sticky: true}); }}).addTo(map);
if (DATA.belt) { L.geoJSON(DATA.belt, {style: {color: '#1f6fb4', weight: 1.2, dashArray: '5 4', fillColor: '#5aa0d8', fillOpacity: 0.18}, renderer: renderer, interactive: false}).addTo(map); }
try { map.fitBounds(base.getBounds(), {padding: [10, 10]}); } catch (e) {}
var year = DATA.years.length ? DATA.years[DATA.years.length - 1] : null;
function starsOf(p, y) { var s = p.stars ? p.stars[String(y)] : undefined; return (s === undefined || s === null) ? 'none' : String(s); }
function colour(p, y) { return DATA.colours[starsOf(p, y)]; }
var layer = L.layerGroup().addTo(map);
var markers = [];
var shown = {kinds: {}, roles: {}};
Object.keys(DATA.kinds).forEach(function (k) { shown.kinds[k] = true; });
Object.keys(DATA.roles).forEach(function (r) { shown.roles[r] = true; });
function trend(p) {
  var ys = DATA.years.filter(function (y) { return p.score && p.score[String(y)] != null; });
  if (ys.length < 2) return null;
  var vals = ys.map(function (y) { return p.score[String(y)]; });
  var lo = Math.min.apply(null, vals), hi = Math.max.apply(null, vals); if (hi === lo) { hi = lo + 1; }
  var ns = 'http://www.w3.org/2000/svg', w = 140, h = 36;
  var svg = document.createElementNS(ns, 'svg'); svg.setAttribute('width', w); svg.setAttribute('height', h);
  var pts = vals.map(function (v, i) { return (4 + i * (w - 8) / (vals.length - 1)).toFixed(1) + ',' + (h - 4 - (v - lo) / (hi - lo) * (h - 8)).toFixed(1); });
  var line = document.createElementNS(ns, 'polyline'); line.setAttribute('points', pts.join(' '));
  line.setAttribute('fill', 'none'); line.setAttribute('stroke', '#b2182b'); line.setAttribute('stroke-width', '1.5'); svg.appendChild(line);
  var t = document.createElementNS(ns, 'title'); t.textContent = ys.join(' → '); svg.appendChild(t);
  return svg;
}
function popup(p) {
  var box = el('div', null, 'pm-popup');
  // In a database holding demo data every figure may be synthetic, a real carrier's included.
  if (DATA.demo) box.appendChild(el('div', L_.demo, 'pm-demo'));
  box.appendChild(el('div', p.name, 'pm-name'));
  var table = el('table');
  function row(k, v) { var tr = el('tr'); tr.appendChild(el('td', k)); tr.appendChild(el('td', v)); table.appendChild(tr); }
  row(L_.kind, p.kind_label); row(L_.level, p.level_label); row(L_.district, p.district); row(L_.belt, p.role_label);
  var s = starsOf(p, year);
  row(L_.stars + ' (' + year + ')', s === 'none' ? '—' : (s === '0' ? L_.vetoed : '★'.repeat(Number(s))));
  var sc = p.score ? p.score[String(year)] : null;
  row(L_.score, sc == null ? '—' : sc.toFixed(1));
  var prev = p.score ? p.score[String(year - 1)] : null;
  if (sc != null && prev != null) { var d = sc - prev; row(L_.change, (d >= 0 ? '+' : '') + d.toFixed(1)); }
  if (p.approx) row(L_.location, L_.approximate);
  box.appendChild(table);
  var chart = trend(p); if (chart) { box.appendChild(el('div', L_.trend, 'pm-small')); box.appendChild(chart); }
  // In the web application every carrier has its page (DATA.link: "/parks/{id}…").
  if (DATA.link) {
    var a = el('a', DATA.link_text || p.id, 'pm-link');
    a.href = DATA.link.replace('{id}', encodeURIComponent(p.id)); a.target = '_top';
    box.appendChild(a);
  }
  return box;
}
PARKS.forEach(function (p) {
  var m = L.circleMarker([p.lat, p.lon], {renderer: renderer, radius: DATA.radius[p.kind] || 5,
    color: p.approx ? '#555' : '#222', weight: p.approx ? 1 : 0.8, dashArray: p.approx ? '2 2' : null,
    fillColor: colour(p, year), fillOpacity: p.approx ? 0.45 : 0.9});
  if (p.highlight) { m.setStyle({color: '#000', weight: 3, radius: (DATA.radius[p.kind] || 5) + 3}); }
  m.bindTooltip(function () { return el('span', p.name); }, p.highlight ? {permanent: true, direction: 'top'} : {});
  m.bindPopup(function () { return popup(p); });
  m.parkId = p.id;
  markers.push([m, p]);
});
// At a national scale the map draws only the carriers in view (found through a grid index), and
// where more than DENSE would be in view it draws one circle per screen cell with their count
// instead: a zoom or a pan then costs what is on screen, not what is in the database.
var DENSE = 4000, GRID = 0.05, grid = {};
var clusters = L.layerGroup().addTo(map);
markers.forEach(function (mp, i) {
  var key = Math.floor(mp[1].lon / GRID) + ',' + Math.floor(mp[1].lat / GRID);
  (grid[key] = grid[key] || []).push(i);
});
function passes(p) { return shown.kinds[p.kind] && shown.roles[p.role]; }
function inView() {
  var b = map.getBounds().pad(0.25), out = [];
  var x0 = Math.floor(b.getWest() / GRID), x1 = Math.floor(b.getEast() / GRID);
  var y0 = Math.floor(b.getSouth() / GRID), y1 = Math.floor(b.getNorth() / GRID);
  var keys = (x1 - x0 + 1) * (y1 - y0 + 1) > Object.keys(grid).length ? Object.keys(grid) : null;
  if (keys === null) {
    keys = [];
    for (var x = x0; x <= x1; x++) for (var y = y0; y <= y1; y++) keys.push(x + ',' + y);
  }
  keys.forEach(function (k) {
    (grid[k] || []).forEach(function (i) { var p = markers[i][1]; if (passes(p) && b.contains([p.lat, p.lon])) out.push(i); });
  });
  return out;
}
function aggregate(indices) {
  var size = 48 * 360 / (256 * Math.pow(2, map.getZoom())), cells = {};
  indices.forEach(function (i) {
    var p = markers[i][1], k = Math.floor(p.lon / size) + ',' + Math.floor(p.lat / size);
    var c = cells[k] = cells[k] || {n: 0, lat: 0, lon: 0, stars: {}};
    c.n += 1; c.lat += p.lat; c.lon += p.lon; var s = starsOf(p, year); c.stars[s] = (c.stars[s] || 0) + 1;
  });
  Object.keys(cells).forEach(function (k) {
    var c = cells[k], at = [c.lat / c.n, c.lon / c.n];
    var top = Object.keys(c.stars).sort(function (a, b) { return c.stars[b] - c.stars[a]; })[0];
    var m = L.circleMarker(at, {renderer: renderer, radius: Math.min(28, 5 + 3 * Math.log2(c.n)), color: '#333', weight: 1,
      fillColor: DATA.colours[top], fillOpacity: 0.75});
    m.bindTooltip(function () { return el('span', c.n + L_.cluster); });
    m.on('click', function () { map.setView(at, Math.min(map.getZoom() + 3, 18)); });
    m.count = c.n;
    clusters.addLayer(m);
  });
}
function refresh() {
  layer.clearLayers(); clusters.clearLayers();
  if (markers.length <= DENSE) {
    markers.forEach(function (mp) { if (passes(mp[1])) layer.addLayer(mp[0]); });
    return;
  }
  var here = inView();
  if (here.length > DENSE) { aggregate(here); return; }
  here.forEach(function (i) { layer.addLayer(markers[i][0]); });
}
function setYear(y) {
  year = Number(y);
  markers.forEach(function (mp) { mp[0].setStyle({fillColor: colour(mp[1], year)}); });
  if (markers.length > DENSE) refresh();  // the cells' colours follow the year
  if (window.parkmon) window.parkmon.year = year;
}
map.on('moveend', function () { if (markers.length > DENSE) refresh(); });
refresh();
var filters = L.control({position: 'topright'});
filters.onAdd = function () {
  var div = el('div', null, 'pm-panel'); L.DomEvent.disableClickPropagation(div);
  div.appendChild(el('h4', L_.layers));
  function box(group, key, label) {
    var lab = el('label'); var cb = el('input'); cb.type = 'checkbox'; cb.checked = true;
    cb.dataset.group = group; cb.dataset.key = key;
    cb.addEventListener('change', function () { shown[group][key] = cb.checked; refresh(); });
    lab.appendChild(cb); lab.appendChild(document.createTextNode(' ' + label)); div.appendChild(lab); div.appendChild(el('br'));
  }
  Object.keys(DATA.kinds).forEach(function (k) { box('kinds', k, DATA.kinds[k]); });
  div.appendChild(el('h4', L_.belt));
  Object.keys(DATA.roles).forEach(function (r) { box('roles', r, DATA.roles[r]); });
  if (DATA.years.length) {
    div.appendChild(el('h4', L_.year));
    var sel = el('select'); sel.id = 'pm-year';
    DATA.years.forEach(function (y) { var o = el('option', y); o.value = y; if (y === year) o.selected = true; sel.appendChild(o); });
    sel.addEventListener('change', function () { setYear(sel.value); });
    div.appendChild(sel);
  }
  return div;
};
filters.addTo(map);
var legend = L.control({position: 'bottomright'});
legend.onAdd = function () {
  var div = el('div', null, 'pm-panel'); div.appendChild(el('h4', L_.legend));
  ['5', '4', '3', '2', '1', '0', 'none'].forEach(function (s) {
    var line = el('div'); var sw = el('span', null, 'pm-swatch'); sw.style.background = DATA.colours[s];
    line.appendChild(sw); line.appendChild(document.createTextNode(s === 'none' ? L_.unrated : (s === '0' ? L_.vetoed : '★'.repeat(Number(s)))));
    div.appendChild(line);
  });
  var a = el('div'); var sw2 = el('span', null, 'pm-swatch'); sw2.style.borderStyle = 'dashed'; sw2.style.opacity = '0.6';
  a.appendChild(sw2); a.appendChild(document.createTextNode(L_.approximate)); div.appendChild(a);
  var b = el('div'); var sw3 = el('span', null, 'pm-swatch'); sw3.style.background = '#5aa0d8'; sw3.style.opacity = '0.5'; sw3.style.borderRadius = '0';
  b.appendChild(sw3); b.appendChild(document.createTextNode(L_.belt_band)); div.appendChild(b);
  div.appendChild(el('div', L_.size_note));
  return div;
};
legend.addTo(map);
if (DATA.title) { var t = L.control({position: 'topleft'}); t.onAdd = function () { var d = el('div', null, 'pm-panel'); d.appendChild(el('h4', DATA.title)); if (DATA.subtitle) d.appendChild(el('div', DATA.subtitle)); return d; }; t.addTo(map); }
if (DATA.portrait) {
  var portrait = L.control({position: 'bottomleft'});
  portrait.onAdd = function () {
    var d = el('div', null, 'pm-panel'); d.style.maxWidth = '520px';
    d.appendChild(el('h4', DATA.portrait_title || ''));
    var holder = el('div'); holder.innerHTML = DATA.portrait;  // SVG made by parkmon, text escaped
    d.appendChild(holder); return d;
  };
  portrait.addTo(map);
  var hl = PARKS.filter(function (p) { return p.highlight; });
  if (hl.length) { map.fitBounds(L.latLngBounds(hl.map(function (p) { return [p.lat, p.lon]; })).pad(0.6)); }
}
if (DATA.demo) { var banner = el('div', L_.demo, 'pm-banner'); map.getContainer().appendChild(banner); }
window.parkmon = {map: map, markers: markers, layer: layer, setYear: setYear, year: year,
  drawn: function () { return layer.getLayers().length; },
  cells: function () { var n = 0; clusters.eachLayer(function (l) { n += l.count; }); return [clusters.getLayers().length, n]; },
  fillOf: function (id) { for (var i = 0; i < markers.length; i++) { if (markers[i][1].id === id) return markers[i][0].options.fillColor; } return null; },
  pointOf: function (id) { for (var i = 0; i < markers.length; i++) { if (markers[i][1].id === id) { var pt = map.latLngToContainerPoint(markers[i][0].getLatLng()); return [pt.x, pt.y]; } } return null; },
  ready: true};
