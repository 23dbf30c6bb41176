// Drop rate against the swept knob, both variants, with the Wilson interval as whiskers. Plain
// SVG: a dozen points do not need a chart library, and colours come from the theme through
// CSS classes (no inline styles under the CSP). The x axis is categorical: the swept values
// are a short hand-picked list, not a continuous range.

import type { SweepView } from '../protocol';
import { h, pct, s } from './dom';

const W = 720,
  H = 260,
  L = 64,
  R = 16,
  T = 16,
  B = 44;

function niceMax(v: number): number {
  if (v <= 0) return 0.01;
  const e = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * e) return m * e;
  return 10 * e;
}

export function sweepChart(sw: SweepView, labels: { before: string; after: string }): HTMLElement {
  const xs = sw.series[0]?.points.map((p) => p.x) ?? [];
  const yMax = niceMax(Math.max(...sw.series.flatMap((se) => se.points.map((p) => p.hi))) * 1.05);
  const px = (i: number) => L + (xs.length <= 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (xs.length - 1));
  const py = (y: number) => T + (H - T - B) * (1 - y / yMax);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': `drop rate against ${sw.label}` });
  for (let k = 0; k <= 4; k++) {
    const y = (yMax * k) / 4;
    svg.append(
      s('line', { x1: L, x2: W - R, y1: py(y), y2: py(y), class: 'grid' }),
      s('text', { x: L - 6, y: py(y) + 4, class: 'tick', 'text-anchor': 'end' }, pct(y)),
    );
  }
  xs.forEach((x, i) => svg.append(s('text', { x: px(i), y: H - B + 18, class: 'tick', 'text-anchor': 'middle' }, String(x))));
  svg.append(s('text', { x: (L + W - R) / 2, y: H - 6, class: 'axis-label', 'text-anchor': 'middle' }, sw.label));
  svg.append(
    s(
      'text',
      { x: 14, y: (T + H - B) / 2, class: 'axis-label', 'text-anchor': 'middle', transform: `rotate(-90 14 ${(T + H - B) / 2})` },
      'packets dropped',
    ),
  );
  for (const se of sw.series) {
    const cls = `series ${se.role}`;
    svg.append(s('polyline', { class: cls, points: se.points.map((p, i) => `${px(i)},${py(p.rate)}`).join(' ') }));
    se.points.forEach((p, i) => {
      const g = s('g', { class: cls });
      g.append(
        s('line', { x1: px(i), x2: px(i), y1: py(p.lo), y2: py(p.hi), class: 'whisker' }),
        s('circle', { cx: px(i), cy: py(p.rate), r: 3.5 }),
        s('title', null, `${sw.label} = ${p.x}: ${pct(p.rate)} [${pct(p.lo)}, ${pct(p.hi)}]`),
      );
      svg.append(g);
    });
  }
  const legend = h(
    'div',
    { class: 'legend' },
    h('span', { class: 'key before' }, labels.before),
    h('span', { class: 'key after' }, labels.after),
  );
  return h('div', { class: 'chart-wrap' }, svg, legend);
}
