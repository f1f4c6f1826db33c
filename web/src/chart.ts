/** A small SVG line chart (no library): a few series against one x axis, with a legend. */
const NS = 'http://www.w3.org/2000/svg';
const COLOURS = ['#0b5cad', '#a4161a', '#1e6b35', '#7a4d00'];

export interface Series {
  name: string;
  points: [number, number][];
}

function el(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

const fmt = (v: number) => (Math.abs(v) >= 100 || v === 0 ? v.toFixed(0) : Number(v.toPrecision(3)).toString());

export function lineChart(title: string, xLabel: string, series: Series[]): SVGSVGElement {
  const W = 360;
  const H = 200;
  const L = 44;
  const R = 10;
  const T = 24;
  const B = 34;
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img' }) as SVGSVGElement;
  const desc = series.map((s) => `${s.name}: ${s.points.length} points${s.points.length ? `, last ${fmt(s.points[s.points.length - 1][1])}` : ''}`).join('; ');
  svg.setAttribute('aria-label', `${title}. ${desc || 'no data'}`);
  svg.append(el('text', { x: L, y: 15, style: 'font-weight:600;fill:#1d1f21' }, title));
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (all.length === 0) {
    svg.append(el('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'no data'));
    return svg;
  }
  let [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const sx = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const sy = (y: number) => H - B - ((y - y0) / (y1 - y0)) * (H - T - B);
  svg.append(el('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: '#8a9095' }), el('line', { x1: L, y1: T, x2: L, y2: H - B, stroke: '#8a9095' }));
  for (const y of [y0, (y0 + y1) / 2, y1]) svg.append(el('text', { x: L - 4, y: sy(y) + 4, 'text-anchor': 'end' }, fmt(y)));
  for (const x of [x0, x1]) svg.append(el('text', { x: sx(x), y: H - B + 14, 'text-anchor': 'middle' }, fmt(x)));
  svg.append(el('text', { x: (L + W - R) / 2, y: H - 4, 'text-anchor': 'middle' }, xLabel));
  series.forEach((s, i) => {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    const colour = COLOURS[i % COLOURS.length];
    if (pts.length)
      svg.append(
        el('polyline', { points: pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' '), fill: 'none', stroke: colour, 'stroke-width': 2 }),
      );
    if (pts.length === 1) svg.append(el('circle', { cx: sx(pts[0][0]), cy: sy(pts[0][1]), r: 3, fill: colour }));
  });
  // The legend on the title's line, right-aligned, so it never covers a curve.
  let x = W - R;
  for (let i = series.length - 1; i >= 0; i--) {
    svg.append(el('text', { x, y: 15, 'text-anchor': 'end', style: `fill:${COLOURS[i % COLOURS.length]};font-weight:600` }, `— ${series[i].name}`));
    x -= 8 * series[i].name.length + 22;
  }
  return svg;
}
