// Drop rate against the swept knob, both variants, with the Wilson interval as a shaded band.
// Plain SVG: a dozen points do not need a chart library, and colours come from the theme
// through CSS classes (no inline styles under the CSP). The x axis is categorical: the swept
// values are a short hand-picked list, not a continuous range.
//
// Readability rules (each was a bug once):
// - the interval is a band, not vertical whiskers: at 0 % drops a whisker from 0 to the upper
//   bound looked like a spike of drops;
// - the two series never hide each other: "before" is a solid line with filled circles,
//   "after" a dashed line with hollow squares, their markers sit a few pixels apart, and the
//   legend says when (and where) the two are equal;
// - the y-axis title sits above the axis, horizontally, so it cannot run into the tick labels,
//   and tick labels carry only the decimals their step needs.

import type { SweepPoint, SweepView } from '../protocol';
import { h, pct, s } from './dom';

/** Drawn at the width it is shown (text stays at its font size): the page's width, within bounds. */
const chartWidth = (): number => Math.round(Math.max(360, Math.min(860, (globalThis.innerWidth || 760) - 60)));
const H = 270,
  L = 64,
  R = 16,
  T = 30,
  B = 44;
/** Horizontal distance between the two series' markers at one x (px). */
const NUDGE = 4;

export function niceMax(v: number): number {
  if (!(v > 0)) return 0.01;
  const e = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * e * (1 + 1e-9)) return m * e;
  return 10 * e;
}

/** A tick label with as many decimals as the step between ticks needs (0.05 %, not 0.0500 %). */
export function tickLabel(y: number, step: number): string {
  if (y === 0) return '0 %';
  const stepPct = step * 100;
  let decimals = 0;
  while (decimals < 4 && Math.abs(Math.round(stepPct * 10 ** decimals) - stepPct * 10 ** decimals) > 1e-6) decimals++;
  return `${(y * 100).toFixed(decimals)} %`;
}

/** Two rates the chart draws as the same point: equal counts give bit-equal rates. */
const same = (a: SweepPoint | undefined, b: SweepPoint | undefined): boolean => !!a && !!b && Math.abs(a.rate - b.rate) < 1e-12;

/** Which x positions the two series share a value at (empty: they differ everywhere). */
export function equalAt(sw: SweepView): number[] {
  const [a, b] = sw.series;
  if (!a || !b) return [];
  return a.points.flatMap((p, i) => (same(p, b.points[i]) ? [i] : []));
}

/** The sentence under the legend that says what a reader cannot see: overlap and zeros. */
export function chartNotes(sw: SweepView): string[] {
  const notes: string[] = [];
  const n = sw.series[0]?.points.length ?? 0;
  const eq = equalAt(sw);
  const allZero = sw.series.every((se) => se.points.every((p) => p.rate === 0));
  if (allZero) {
    const hi = Math.max(0, ...sw.series.flatMap((se) => se.points.map((p) => p.hi)));
    notes.push(`No packet dropped at any point (0 %); the shaded band is the 95 % interval, below ${pct(hi)}.`);
  } else if (sw.series.length === 2 && n > 0 && eq.length === n) {
    notes.push('Equal at every point: the two lines are drawn a few pixels apart so both show.');
  } else if (sw.series.length === 2 && eq.length > 0) {
    const xs = sw.series[0].points.filter((_, i) => eq.includes(i)).map((p) => p.x);
    notes.push(`Equal at ${sw.label} = ${xs.join(', ')} (drawn a few pixels apart so both show).`);
  }
  return notes;
}

export function sweepChart(sw: SweepView, labels: { before: string; after: string }): HTMLElement {
  const W = chartWidth();
  const xs = sw.series[0]?.points.map((p) => p.x) ?? [];
  const top = Math.max(0, ...sw.series.flatMap((se) => se.points.map((p) => Math.max(p.rate * 1.15, p.hi * 1.6))));
  const yMax = niceMax(top);
  const step = yMax / 4;
  const px = (i: number) => L + (xs.length <= 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (xs.length - 1));
  const py = (y: number) => T + (H - T - B) * (1 - Math.min(y, yMax) / yMax);
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`,
    width: W,
    class: 'chart',
    role: 'img',
    'aria-label': `packets dropped against ${sw.label}`,
  });
  svg.append(s('text', { x: L - 6, y: T - 14, class: 'axis-label', 'text-anchor': 'start' }, 'packets dropped'));
  for (let k = 0; k <= 4; k++) {
    const y = step * k;
    svg.append(
      s('line', { x1: L, x2: W - R, y1: py(y), y2: py(y), class: k === 0 ? 'grid base' : 'grid' }),
      s('text', { x: L - 8, y: py(y) + 4, class: 'tick', 'text-anchor': 'end' }, tickLabel(y, step)),
    );
  }
  xs.forEach((x, i) => svg.append(s('text', { x: px(i), y: H - B + 18, class: 'tick', 'text-anchor': 'middle' }, String(x))));
  svg.append(s('text', { x: (L + W - R) / 2, y: H - 6, class: 'axis-label', 'text-anchor': 'middle' }, sw.label));

  const eq = new Set(equalAt(sw));
  const nudge = (role: string) => (sw.series.length === 2 ? (role === 'before' ? -NUDGE : NUDGE) : 0);
  // Bands first (both), then lines and markers, "after" last so its dashes show on "before".
  const ordered = [...sw.series].sort((a, b) => (a.role === b.role ? 0 : a.role === 'before' ? -1 : 1));
  for (const se of ordered) {
    const up = se.points.map((p, i) => `${px(i) + nudge(se.role)},${py(p.hi)}`);
    const down = se.points.map((p, i) => `${px(i) + nudge(se.role)},${py(p.lo)}`).reverse();
    svg.append(s('polygon', { class: `band ${se.role}`, points: [...up, ...down].join(' ') }));
  }
  for (const se of ordered) {
    const cls = `series ${se.role}`;
    const dx = nudge(se.role);
    svg.append(s('polyline', { class: `${cls} line`, points: se.points.map((p, i) => `${px(i) + dx},${py(p.rate)}`).join(' ') }));
    se.points.forEach((p, i) => {
      const g = s('g', { class: `${cls} marker${eq.has(i) ? ' equal' : ''}` });
      const x = px(i) + dx;
      const y = py(p.rate);
      g.append(
        se.role === 'after' ? s('rect', { x: x - 3.5, y: y - 3.5, width: 7, height: 7 }) : s('circle', { cx: x, cy: y, r: 3.5 }),
        s(
          'title',
          null,
          `${se.role === 'after' ? labels.after : labels.before}: ${sw.label} = ${p.x}: ${pct(p.rate)} [${pct(p.lo)}, ${pct(p.hi)}]`,
        ),
      );
      svg.append(g);
    });
  }
  const legend = h(
    'div',
    { class: 'legend' },
    h('span', { class: 'key before' }, labels.before),
    h('span', { class: 'key after' }, labels.after),
    h('span', { class: 'key band' }, '95 % interval'),
  );
  const notes = chartNotes(sw);
  return h('div', { class: 'chart-wrap' }, svg, legend, ...notes.map((n) => h('p', { class: 'chart-note muted small' }, n)));
}
