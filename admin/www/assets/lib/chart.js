// chart.js -- small bar charts drawn as inline SVG (no library): one group of bars per
// bucket (an hour or a day), one bar per series, a y axis with round steps, x labels
// thinned to fit, and the same numbers as a table for screen readers and keyboard users.
//
// Contract: barChart({title, buckets, series: [{key, label, color}], label(bucket)})
// answers a <figure>; buckets are objects with a number under each series key. The SVG
// scales with its container (viewBox), so it fits laptop and phone widths alike.
//
// Must never: put data into markup as HTML (text nodes only), or load anything.

import { h } from './dom.js';

const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs, ...children) {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
    for (const c of children) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return el;
}

// 0, 1, 2, 5, 10, 20, 50, ... : a step that gives at most `ticks` gridlines up to max.
function niceStep(max, ticks) {
    if (max <= 0) return 1;
    const raw = max / ticks;
    const mag = 10 ** Math.floor(Math.log10(raw));
    for (const m of [1, 2, 5, 10]) if (m * mag >= raw) return Math.max(1, m * mag);
    return 10 * mag;
}

export function barChart({ title, buckets, series, label, id }) {
    const W = 720, H = 240, left = 44, right = 8, top = 10, bottom = 34;
    const plotW = W - left - right, plotH = H - top - bottom;
    const max = Math.max(0, ...buckets.flatMap((b) => series.map((se) => b[se.key] || 0)));
    const step = niceStep(max, 4);
    const yMax = Math.max(step, Math.ceil(max / step) * step);
    const y = (v) => top + plotH - (v / yMax) * plotH;
    const groupW = plotW / Math.max(1, buckets.length);
    const barW = Math.max(1, (groupW * 0.8) / series.length);
    const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart-svg', role: 'img', 'aria-labelledby': `${id}-title` },
        s('title', { id: `${id}-title` }, title));
    for (let v = 0; v <= yMax; v += step) {
        svg.append(s('line', { x1: left, x2: W - right, y1: y(v), y2: y(v), class: 'chart-grid' }),
            s('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'chart-tick' }, v));
    }
    const every = Math.max(1, Math.ceil(buckets.length / 8));
    buckets.forEach((b, i) => {
        const x0 = left + i * groupW + groupW * 0.1;
        series.forEach((se, k) => {
            const v = b[se.key] || 0;
            if (v > 0) {
                svg.append(s('rect', { x: x0 + k * barW, y: y(v), width: Math.max(1, barW - 1), height: top + plotH - y(v),
                    fill: se.color, class: 'chart-bar' }, s('title', null, `${label(b)} — ${se.label}: ${v}`)));
            }
        });
        if (i % every === 0) {
            svg.append(s('text', { x: left + i * groupW + groupW / 2, y: H - bottom + 16, 'text-anchor': 'middle', class: 'chart-tick' },
                label(b)));
        }
    });
    svg.append(s('line', { x1: left, x2: W - right, y1: top + plotH, y2: top + plotH, class: 'chart-axis' }));
    const legend = h('ul', { class: 'chart-legend' }, series.map((se) =>
        h('li', null, h('span', { class: 'chart-swatch', dataset: { color: se.key } }), se.label)));
    const data = h('details', { class: 'chart-data' },
        h('summary', null, title),
        h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
            h('thead', null, h('tr', null, h('th', { scope: 'col' }, ''), series.map((se) => h('th', { scope: 'col' }, se.label)))),
            h('tbody', null, buckets.map((b) => h('tr', null, h('th', { scope: 'row' }, label(b)),
                series.map((se) => h('td', { 'data-label': se.label }, String(b[se.key] || 0)))))))));
    return h('figure', { class: 'chart', id },
        h('figcaption', null, title), svg, legend, data);
}
