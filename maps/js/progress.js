// parkmon progress map client: outside text only via textContent.
var L_ = DATA.labels;
function el(tag, text, cls) {
  var e = document.createElement(tag);
  if (text != null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
var COLOURS = {achieved: '#1a7f37', on_track: '#4ac26b', moderate: '#d4a72c',
  limited: '#fb8f44', moving_away: '#cf222e', not_enough_data: '#d0d7de'};
var layer = L.geoJSON(DATA.districts, {
  style: function (f) {
    return {color: '#555', weight: 1, fillOpacity: 0.75,
      fillColor: COLOURS[f.properties.status] || COLOURS.not_enough_data};
  },
  onEachFeature: function (f, l) {
    l.bindTooltip(function () {
      var p = f.properties, box = el('div');
      box.appendChild(el('b', p.name));
      box.appendChild(el('div', DATA.goal));
      box.appendChild(el('div', (p.status_label || L_.no_data) +
        (p.latest != null ? ' — ' + p.latest + ' / ' + p.target : '')));
      return box;
    }, {sticky: true});
  }
}).addTo(map);
try { map.fitBounds(layer.getBounds(), {padding: [10, 10]}); } catch (e) {}
var panel = L.control({position: 'topright'});
panel.onAdd = function () {
  var div = el('div', null, 'pm-panel');
  div.appendChild(el('h4', DATA.title));
  var table = el('table');
  DATA.goals.forEach(function (g) {
    var tr = el('tr');
    tr.appendChild(el('td', g.name));
    var s = el('td', g.status_label, 'pm-status-' + g.status);
    tr.appendChild(s);
    tr.appendChild(el('td', g.latest == null ? '—' : String(g.latest)));
    table.appendChild(tr);
  });
  div.appendChild(table);
  return div;
};
panel.addTo(map);
var legend = L.control({position: 'bottomright'});
legend.onAdd = function () {
  var div = el('div', null, 'pm-panel');
  div.appendChild(el('h4', DATA.goal));
  Object.keys(COLOURS).forEach(function (k) {
    var line = el('div'), sw = el('span', null, 'pm-swatch');
    sw.style.background = COLOURS[k]; sw.style.borderRadius = '0';
    line.appendChild(sw); line.appendChild(document.createTextNode(L_[k] || k));
    div.appendChild(line);
  });
  return div;
};
legend.addTo(map);
if (DATA.demo) { map.getContainer().appendChild(el('div', L_.demo, 'pm-banner')); }
window.parkmon = {map: map, districts: layer, ready: true,
  colourOf: function (code) {
    var c = null;
    layer.eachLayer(function (l) { if (l.feature.properties.adcode === code) c = l.options.fillColor; });
    return c;
  }};
