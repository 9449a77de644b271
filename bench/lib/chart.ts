/**
 * The run's chart, as a standalone SVG: revocation latency as cumulative distributions (log time axis, with
 * the p50 and p99 targets drawn in), and the throughput ratios as bars against their targets.
 */

export interface RatioBar {
  label: string;
  value: number;
  target: number;
}

export interface ChartInput {
  title: string;
  /** Latency samples in ms, by series name. */
  latency: Record<string, number[]>;
  ratios: RatioBar[];
}

const WIDTH = 1000;
const HEIGHT = 540;
const COLORS = ['#1f6feb', '#d9480f', '#2b8a3e', '#7048e8', '#c2255c', '#0b7285'];
const FONT = 'font-family="Helvetica, Arial, sans-serif"';
/** Wide enough for "three nodes, postgres: fork to refusal everywhere (n=200)". */
const LEGEND_COLUMN = 440;

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function text(x: number, y: number, content: string, attrs = '', size = 12): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${FONT} font-size="${size}" ${attrs}>${escape(content)}</text>`;
}

/** 1, 2, 5, 10, 20, 50... up to and including the first tick at or past `max`. */
function logTicks(max: number): number[] {
  const ticks: number[] = [];
  for (let decade = 0.1; ; decade *= 10) {
    for (const step of [1, 2, 5]) {
      const tick = Math.round(step * decade * 1000) / 1000;
      ticks.push(tick);
      if (tick >= max) return ticks;
    }
  }
}

function latencyPanel(latency: Record<string, number[]>, x0: number, y0: number, w: number, h: number): string {
  const series = Object.entries(latency).filter(([, samples]) => samples.length > 0);
  const all = series.flatMap(([, samples]) => samples);
  const out: string[] = [text(x0, y0 - 12, 'Revocation latency: share of calls done within t (cumulative)', 'font-weight="bold"')];
  if (all.length === 0) return out.concat(text(x0, y0 + 20, 'no samples in this run')).join('\n');
  const ticks = logTicks(Math.max(100, ...all));
  const lo = Math.log10(Math.max(0.1, Math.min(1, ...all)));
  const hi = Math.log10(ticks[ticks.length - 1]);
  const sx = (ms: number) => x0 + ((Math.log10(Math.max(ms, 10 ** lo)) - lo) / (hi - lo)) * w;
  const sy = (share: number) => y0 + h - share * h;
  out.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  for (const tick of ticks.filter((t) => Math.log10(t) >= lo)) {
    out.push(`<line x1="${sx(tick)}" y1="${y0}" x2="${sx(tick)}" y2="${y0 + h}" stroke="#eee"/>`, text(sx(tick) - 6, y0 + h + 16, `${tick}`));
  }
  out.push(text(x0 + w / 2 - 20, y0 + h + 34, 'time (ms, log scale)'));
  for (const share of [0, 0.25, 0.5, 0.75, 0.99]) {
    out.push(`<line x1="${x0}" y1="${sy(share)}" x2="${x0 + w}" y2="${sy(share)}" stroke="#eee"/>`, text(x0 - 36, sy(share) + 4, `${Math.round(share * 100)}%`));
  }
  // The targets: p50 under 10 ms, p99 under 50 ms.
  for (const [ms, share, label] of [
    [10, 0.5, 'p50 target 10 ms'],
    [50, 0.99, 'p99 target 50 ms'],
  ] as const) {
    out.push(
      `<line x1="${sx(ms)}" y1="${y0}" x2="${sx(ms)}" y2="${y0 + h}" stroke="#c92a2a" stroke-dasharray="5,4"/>`,
      `<circle cx="${sx(ms)}" cy="${sy(share)}" r="4" fill="#c92a2a"/>`,
      text(sx(ms) + 6, sy(share) + 14, label, 'fill="#c92a2a"'),
    );
  }
  series.forEach(([name, samples], i) => {
    const sorted = [...samples].sort((a, b) => a - b);
    const points = sorted.map((ms, k) => `${sx(ms).toFixed(1)},${sy((k + 1) / sorted.length).toFixed(1)}`);
    const color = COLORS[i % COLORS.length];
    out.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
    // The legend goes under the axis, two columns, clear of the curves; the second under the ratios, so long names fit.
    const lx = x0 + (i % 2) * LEGEND_COLUMN;
    const ly = y0 + h + 50 + Math.floor(i / 2) * 18;
    out.push(`<rect x="${lx}" y="${ly}" width="12" height="12" fill="${color}"/>`, text(lx + 18, ly + 10, `${name} (n=${samples.length})`));
  });
  return out.join('\n');
}

function ratioPanel(ratios: RatioBar[], x0: number, y0: number, w: number, h: number): string {
  const out: string[] = [text(x0, y0 - 12, 'Throughput ratios against their targets', 'font-weight="bold"')];
  const finite = ratios.filter((r) => Number.isFinite(r.value));
  const top = Math.ceil(Math.max(3, ...finite.map((r) => r.value), ...ratios.map((r) => r.target)));
  const sx = (v: number) => x0 + (v / top) * w;
  out.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  for (let v = 0; v <= top; v += 0.5) {
    out.push(`<line x1="${sx(v)}" y1="${y0}" x2="${sx(v)}" y2="${y0 + h}" stroke="#eee"/>`);
    if (Number.isInteger(v)) out.push(text(sx(v) - 4, y0 + h + 16, `${v}x`));
  }
  const band = h / Math.max(1, ratios.length);
  ratios.forEach((ratio, i) => {
    const y = y0 + i * band + band * 0.25;
    const barHeight = band * 0.5;
    const met = ratio.value >= ratio.target;
    const value = Number.isFinite(ratio.value) ? ratio.value : 0;
    out.push(
      `<rect x="${x0}" y="${y.toFixed(1)}" width="${(sx(value) - x0).toFixed(1)}" height="${barHeight.toFixed(1)}" fill="${met ? '#2b8a3e' : '#e8590c'}"/>`,
      `<line x1="${sx(ratio.target)}" y1="${(y - 6).toFixed(1)}" x2="${sx(ratio.target)}" y2="${(y + barHeight + 6).toFixed(1)}" stroke="#c92a2a" stroke-width="3"/>`,
      text(x0 + 6, y - 4, `${ratio.label}: ${Number.isFinite(ratio.value) ? ratio.value.toFixed(2) : 'n/a'}x (target ≥ ${ratio.target}x)`),
    );
  });
  return out.join('\n');
}

export function renderChart(input: ChartInput): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    text(20, 24, input.title, 'font-weight="bold"', 14),
    latencyPanel(input.latency, 60, 70, 560, 320),
    ratioPanel(input.ratios, 680, 70, 290, 320),
    '</svg>',
    '',
  ].join('\n');
}
