// Hand-drawn SVG charts: horizontal bars, one row per label, each bar a
// stack of series (e.g. succeeded and failed); and time charts, one
// vertical bar per time bucket. No library: the numbers are few, and a
// vendored plotting library would outweigh every page. The CSP forbids
// inline styles, so geometry goes in SVG attributes and colour in app.css
// classes. A chart is an image to a screen reader: its aria-label says the
// numbers (a time chart's, a summary of them), and a visually hidden table
// holds them row by row. The table sits in a div.sr-only, not a
// table.sr-only: a table grows to hold its rows whatever its own size, so
// a hidden one would widen or lengthen the page (a week's 168 rows).

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
    <div class="sr-only"><table>
      <caption>${title}</caption>
      <thead><tr><th scope="col">Row</th>${series.map((s) => html`<th scope="col">${s.name}</th>`)}</tr></thead>
      <tbody>${rows.map((r) => html`<tr><th scope="row">${r.title || r.label}</th>${r.values.map((v) => html`<td>${f(v || 0)}</td>`)}</tr>`)}</tbody>
    </table></div>
  </figure>`;
}

// Time charts. Same 1:1 drawing as the bar charts; the plot is as wide as
// a half-width panel at 1280px leaves, so a week's 168 hours get ~2.5px
// each: dense, but every hour is there to hover.
const TW = 480;
const TPAD_L = 48; // the y-axis' labels
const TPAD_R = 8;
const TPLOT_H = 120;
const TPAD_T = 8;
const TAXIS_H = 22; // the x-axis' labels

const pad2 = (n) => String(n).padStart(2, '0');
const hm = (d) => pad2(d.getHours()) + ':' + pad2(d.getMinutes());
const dayName = (d) => d.toLocaleDateString(undefined, { weekday: 'short' }) + ' ' + d.getDate();

// niceCeil rounds a scale's top up to 1, 2, 2.5 or 5 times a power of ten,
// so the axis' one label reads well.
function niceCeil(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

// tickLabel is a bucket's x-axis label, or '' for none, in the viewer's
// time zone: every 10-minute bucket of an hour, every third hour of a
// day, the first hour of each day in a week (the first bucket whose date
// differs from the one before: in a zone half an hour off UTC that is
// 00:30).
function tickLabel(d, prev, bucketMs, n) {
  if (bucketMs < 3600e3) return hm(d);
  if (n * bucketMs <= 24 * 3600e3) return d.getHours() % 3 === 0 ? hm(d) : '';
  return prev && prev.getDate() !== d.getDate() ? dayName(d) : '';
}

// TimeChart draws points [{start, value}] (start: an RFC 3339 time; value:
// a number, or null for a bucket with nothing to show, such as a rate
// with nothing sent), oldest first, each bucketMs long. fmt formats a
// value; max fixes the scale's top (1 for a rate), else the highest value
// rounded up; cls is a bar's class ('' accent, 'ok', 'bad', 'warn') or a
// function of its value; total, when given, is said in the summary, which
// names the highest bucket (the lowest with low); valueName heads the
// table's column.
export function TimeChart({ id, title, points, bucketMs, fmt, max, cls, total, low, valueName }) {
  const f = fmt || ((n) => String(n));
  const n = points.length;
  const ds = points.map((p) => new Date(p.start));
  const vals = points.map((p) => (p.value === null || p.value === undefined ? null : p.value));
  const top = max || niceCeil(Math.max(0, ...vals.filter((v) => v !== null)));
  const plotW = TW - TPAD_L - TPAD_R;
  const bw = plotW / Math.max(n, 1);
  const gap = bw >= 6 ? 2 : bw >= 3 ? 0.5 : 0;
  const h = TPAD_T + TPLOT_H + TAXIS_H;
  const base = TPAD_T + TPLOT_H;
  const at = (d) => dayName(d) + ' ' + hm(d);
  const end = (i) => new Date(ds[i].getTime() + bucketMs);
  const span = (i) => at(ds[i]) + '–' + hm(end(i));
  // The summary names the bucket that stands out: the highest, or for a
  // rate (low: true) the lowest.
  let pick = -1;
  vals.forEach((v, i) => {
    if (v === null || (!low && v <= 0)) return;
    if (pick < 0 || (low ? v < vals[pick] : v > vals[pick])) pick = i;
  });
  const withData = vals.filter((v) => v !== null && (low || v > 0)).length;
  const summary = title + ', ' + n + ' buckets of ' + (bucketMs < 3600e3 ? bucketMs / 60e3 + ' minutes' : 'an hour') +
    (n ? ' from ' + at(ds[0]) + ' to ' + at(end(n - 1)) : '') + ': ' +
    (total !== undefined ? 'total ' + f(total) + ', ' : '') +
    (pick < 0 ? 'nothing in any bucket' : withData + ' with data, the ' + (low ? 'lowest ' : 'highest ') + f(vals[pick]) + ' at ' + at(ds[pick]));
  return html`<figure class="chart-box" id=${id}>
    <figcaption>${title}</figcaption>
    <svg class="chart bars time" width=${TW} height=${h} viewBox=${`0 0 ${TW} ${h}`} role="img" aria-label=${summary} preserveAspectRatio="xMinYMin meet">
      <line class="grid" x1=${TPAD_L} y1=${TPAD_T} x2=${TW - TPAD_R} y2=${TPAD_T} />
      <text class="y" x=${TPAD_L - 6} y=${TPAD_T + 4} text-anchor="end">${f(top)}</text>
      <text class="y" x=${TPAD_L - 6} y=${base} text-anchor="end">${f(0)}</text>
      ${points.map((p, i) => {
        const v = vals[i];
        const x = TPAD_L + i * bw;
        const bh = v === null ? 0 : Math.min(v / top, 1) * TPLOT_H;
        const c = typeof cls === 'function' ? cls(v) : cls;
        const label = tickLabel(ds[i], i > 0 ? ds[i - 1] : null, bucketMs, n);
        return html`<g class="bucket">
          <title>${span(i)}: ${v === null ? 'no data' : f(v)}</title>
          <rect class="hit" x=${x} y=${TPAD_T} width=${bw} height=${TPLOT_H} />
          ${bh > 0 ? html`<rect class=${'bar ' + (c || '')} x=${x + gap / 2} y=${base - Math.max(bh, 1)} width=${Math.max(bw - gap, 1)} height=${Math.max(bh, 1)} />` : null}
          ${label ? html`<line class="axis" x1=${x} y1=${base} x2=${x} y2=${base + 4} /><text class="tick" x=${x} y=${base + 16} text-anchor=${x > TW - TPAD_R - 24 ? 'end' : 'middle'}>${label}</text>` : null}
        </g>`;
      })}
      <line class="axis" x1=${TPAD_L} y1=${base} x2=${TW - TPAD_R} y2=${base} />
      ${pick < 0 ? html`<text class="none" x=${TPAD_L + plotW / 2} y=${TPAD_T + TPLOT_H / 2} text-anchor="middle">Nothing in this window</text>` : null}
    </svg>
    <div class="sr-only"><table>
      <caption>${title}</caption>
      <thead><tr><th scope="col">Time</th><th scope="col">${valueName || title}</th></tr></thead>
      <tbody>${points.map((p, i) => html`<tr data-start=${p.start} data-value=${vals[i] === null ? '' : String(vals[i])}><th scope="row">${span(i)}</th><td>${vals[i] === null ? '–' : f(vals[i])}</td></tr>`)}</tbody>
    </table></div>
  </figure>`;
}
