// Hand-drawn SVG charts: horizontal bars, one row per label, each bar a
// stack of series (e.g. succeeded and failed). No library: the numbers are
// few, and a vendored plotting library would outweigh every page. The CSP
// forbids inline styles, so geometry goes in SVG attributes and colour in
// app.css classes. A chart is an image to a screen reader: its aria-label
// says the numbers, and a visually hidden table holds them row by row.

import { html } from './ui.js';

// Drawn at 1:1 (the SVG only shrinks in a narrow box, never grows), so its
// text stays the page's size.
const W = 460;
const LABEL_W = 170; // room for a row's label
const VALUE_W = 64; // room for a row's total at the bar's end
const ROW_H = 24;
const BAR_H = 16;

// clip shortens a label to what fits in LABEL_W at the chart's font size;
// the full text is in the bar's <title> and in the table.
function clip(s, n = 24) {
  s = String(s);
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

// BarChart draws rows [{label, values: [n per series], title?}] with
// series [{name, cls}] (cls: '' accent, 'bad', 'ok', 'warn'). fmt formats
// a number (the row's total is written at the bar's end). empty is shown
// instead of an empty chart.
export function BarChart({ id, title, rows, series, fmt, empty }) {
  const f = fmt || ((n) => String(n));
  if (!rows.length) {
    return html`<figure class="chart-box" id=${id}><figcaption>${title}</figcaption>
      <p class="empty">${empty || 'Nothing to show.'}</p></figure>`;
  }
  const totals = rows.map((r) => r.values.reduce((a, b) => a + (b || 0), 0));
  const max = Math.max(...totals, 0) || 1;
  const plot = W - LABEL_W - VALUE_W;
  const h = rows.length * ROW_H + 8;
  const summary = title + ': ' + rows.map((r, i) => r.label + ' ' + (series.length > 1
    ? series.map((s, j) => s.name + ' ' + f(r.values[j] || 0)).join(', ')
    : f(totals[i]))).join('; ');
  return html`<figure class="chart-box" id=${id}>
    <figcaption>${title}</figcaption>
    ${series.length > 1 ? html`<ul class="legend" aria-hidden="true">
      ${series.map((s) => html`<li><svg width="12" height="12" viewBox="0 0 12 12"><rect class=${'bar ' + (s.cls || '')} width="12" height="12" rx="2" /></svg> ${s.name}</li>`)}
    </ul>` : null}
    <svg class="chart bars" width=${W} height=${h} viewBox=${`0 0 ${W} ${h}`} role="img" aria-label=${summary} preserveAspectRatio="xMinYMin meet">
      <line class="axis" x1=${LABEL_W} y1="0" x2=${LABEL_W} y2=${h - 4} />
      ${rows.map((r, i) => {
        const y = 4 + i * ROW_H;
        let x = LABEL_W;
        return html`<g class="row">
          <title>${r.title || r.label}: ${f(totals[i])}</title>
          <text x=${LABEL_W - 8} y=${y + BAR_H - 4} text-anchor="end">${clip(r.label)}</text>
          ${r.values.map((v, j) => {
            const w = ((v || 0) / max) * plot;
            const bar = w > 0 ? html`<rect class=${'bar ' + (series[j].cls || '')} x=${x} y=${y} width=${Math.max(w, 1)} height=${BAR_H} />` : null;
            x += w;
            return bar;
          })}
          <text class="value" x=${x + 6} y=${y + BAR_H - 4}>${f(totals[i])}</text>
        </g>`;
      })}
    </svg>
    <table class="sr-only">
      <caption>${title}</caption>
      <thead><tr><th scope="col">Row</th>${series.map((s) => html`<th scope="col">${s.name}</th>`)}</tr></thead>
      <tbody>${rows.map((r) => html`<tr><th scope="row">${r.title || r.label}</th>${r.values.map((v) => html`<td>${f(v || 0)}</td>`)}</tr>`)}</tbody>
    </table>
  </figure>`;
}
