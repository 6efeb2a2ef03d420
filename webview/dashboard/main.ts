// The snapshotter dashboard: one daemon's state, checks, metrics charts and remote snapshots, drawn
// from what the host sends (DashboardData). The page keeps no timer: the host sends a new state at
// each read while the panel shows. Charts are made once and fed new data; the rest is redrawn.
// Each chart's latest figures are also in its `data-*` attributes and caption, as text.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '../shared/base.css';
import './dashboard.css';
import type uPlot from 'uplot';
import { count, formatBytes } from '../../src/core/format.js';
import type { Column, DashboardData, DashboardSeries } from '../../src/extension/webviews/dashboardData.js';
import { h, replace } from '../shared/dom.js';
import { action, copy, start } from '../shared/host.js';
import { onThemeChange } from '../shared/theme.js';
import { Chart, type Line, type Units } from './charts.js';

const ms = (v: number): string => `${v < 10 ? v.toFixed(2) : v.toFixed(0)} ms`;
const bytes = (v: number): string => formatBytes(Math.round(v));
const whole = (v: number): string => String(Math.round(v));
const FUSE_COLORS = ['--vscode-charts-green', '--vscode-charts-yellow', '--vscode-charts-blue', '--vscode-charts-red'];

interface Figure {
  element: HTMLElement;
  caption: HTMLElement;
  chart: Chart;
}

const page = document.getElementById('report')!;
const parts = {
  header: h('header', { class: 'daemon' }),
  facts: h('section'),
  checks: h('section'),
  metrics: h('p', { class: 'muted' }),
  charts: h('section', { class: 'charts' }),
  layers: h('section'),
  snapshots: h('section'),
};
let figures: Record<'fetched' | 'registry' | 'fuse' | 'background', Figure> | undefined;

function figure(name: string, title: string, lines: Line[], units: Units): Figure {
  const caption = h('span', { class: 'figure' });
  const box = h('div', { class: 'plot' });
  const element = h('figure', { class: 'chart', attrs: { 'data-chart': name } }, h('figcaption', {}, h('strong', {}, title), ' ', caption), box);
  parts.charts.append(element);
  return { element, caption, chart: new Chart(box, lines, units) };
}

/** The charts, made on the first data: the FUSE chart has a line per operation the daemon times. */
function makeFigures(series: DashboardSeries): NonNullable<typeof figures> {
  const fuse = Object.keys(series.fuseMs).map((op, i) => ({ label: op, color: FUSE_COLORS[i % FUSE_COLORS.length]!, points: true }));
  return {
    fetched: figure('fetched', 'Bytes fetched on demand', [{ label: 'fetched', color: '--vscode-charts-blue' }, { label: 'layer size', color: '--vscode-descriptionForeground', dash: true }], { left: bytes, floor: 1024 }),
    registry: figure('registry', 'Registry fetches', [{ label: 'on-demand fetches', color: '--vscode-charts-orange' }, { label: 'GET latency (mean)', color: '--vscode-charts-purple', right: true, points: true }], { left: whole, right: ms, floor: 4 }),
    fuse: figure('fuse', 'FUSE operation latency (mean per refresh)', fuse, { left: ms, floor: 1 }),
    background: figure('background', 'Background fetch', [{ label: 'background fetches', color: '--vscode-charts-green' }], { left: whole, floor: 4 }),
  };
}

/** The last value that is not a gap. */
function latest(column: Column): number | undefined {
  for (let i = column.length - 1; i >= 0; i--) if (column[i] !== null) return column[i]!;
  return undefined;
}

function feed(f: Figure, t: number[], columns: Column[], text: string, value: number | undefined): void {
  f.chart.show([t, ...columns] as uPlot.AlignedData);
  f.caption.textContent = text;
  f.element.dataset.samples = String(t.length);
  if (value === undefined) delete f.element.dataset.latest;
  else f.element.dataset.latest = String(value);
}

function drawCharts(d: DashboardData): void {
  const s = d.series;
  figures ??= makeFigures(s);
  const fetched = latest(s.fetched);
  const n = s.t.length;
  const [f1, f0, t1, t0] = [s.fetched[n - 1] ?? null, s.fetched[n - 2] ?? null, s.t[n - 1] ?? 0, s.t[n - 2] ?? 0];
  const rate = f1 !== null && f0 !== null && t1 > t0 ? (f1 - f0) / (t1 - t0) : undefined;
  feed(figures.fetched, s.t, [s.fetched, s.layerBytes], fetched === undefined ? 'no samples' : `${bytes(fetched)} of ${bytes(latest(s.layerBytes) ?? 0)}${rate ? `, ${bytes(rate)}/s lately` : ''}`, fetched);
  const fetches = latest(s.registryFetches);
  const get = latest(s.registryMs);
  feed(figures.registry, s.t, [s.registryFetches, s.registryMs], fetches === undefined ? 'no samples' : `${count(fetches, 'fetch', 'fetches')}${get === undefined ? '' : `; last mean GET ${ms(get)}`}`, fetches);
  const ops = Object.entries(s.fuseMs);
  const seen = ops.flatMap(([op, c]) => (latest(c) === undefined ? [] : [`${op} ${ms(latest(c)!)}`]));
  feed(figures.fuse, s.t, ops.map(([, c]) => c), seen.join(', ') || 'no operations yet', latest(ops[0]?.[1] ?? []));
  const background = latest(s.background);
  feed(figures.background, s.t, [s.background], background === undefined ? 'no samples' : count(background, d.kind === 'soci' ? 'span fetched' : 'download', d.kind === 'soci' ? 'spans fetched' : 'downloads'), background);
}

/** `3 min 12 s`, `2 h 5 min`, `4 d 3 h`. */
function duration(msecs: number): string {
  const s = Math.max(0, Math.floor(msecs / 1000));
  const [d, hr, m] = [Math.floor(s / 86400), Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60];
  if (d > 0) return `${d} d ${hr} h`;
  if (hr > 0) return `${hr} h ${m} min`;
  return m > 0 ? `${m} min ${s % 60} s` : `${s} s`;
}

const time = (at: number): string => new Date(at).toLocaleTimeString();

function row(name: string, ...value: (Node | string)[]): HTMLElement {
  return h('tr', {}, h('th', {}, name), h('td', {}, ...value));
}

function button(label: string, name: string, enabled: boolean): HTMLElement {
  return h('vscode-button', { attrs: { 'data-action': name, secondary: name !== 'start' && name !== 'stop', disabled: !enabled }, onClick: () => enabled && action(name) }, label);
}

/** What the header shows; it is drawn again only when this changes, so a button is not replaced under the pointer. */
let headerShown = '';

function drawHeader(d: DashboardData): void {
  const state = d.busy ?? d.condition;
  if (headerShown === `${d.kind} ${d.condition} ${state}`) return;
  headerShown = `${d.kind} ${d.condition} ${state}`;
  const running = d.condition === 'running' || d.condition === 'unhealthy';
  replace(parts.header,
    h('h1', {}, `${d.kind} snapshotter `, h('span', { class: `condition ${d.condition.replace(' ', '-')}`, attrs: { id: 'condition', 'data-condition': d.condition, 'data-refresh-ms': d.refreshMs } }, state)),
    h('div', { class: 'actions' },
      button('Start', 'start', !d.busy && !running && d.condition !== 'not installed'),
      button('Stop', 'stop', !d.busy && running),
      button('Restart', 'restart', !d.busy && running),
      button('Open Config', 'config', true),
      button('Show Logs', 'logs', true)),
  );
}

function drawFacts(d: DashboardData): void {
  replace(parts.facts, h('table', { class: 'grid facts' },
    row('version', d.version ?? 'not installed'),
    row('binary', h('code', {}, d.binary ?? 'not found on PATH')),
    row('mode', d.mode),
    row('socket', h('code', {}, d.socket)),
    row('config', h('code', {}, d.config)),
    row('metrics', d.metricsAddress ? h('code', {}, d.metricsAddress) : 'off'),
    row('uptime', d.startedAt ? `${duration(Date.now() - d.startedAt)} (PID ${d.pid}, since ${new Date(d.startedAt).toLocaleString()})` : d.pid ? `PID ${d.pid}` : 'not running'),
    row('last read', d.readAt ? `${time(d.readAt)}, every ${d.refreshMs / 1000} s while this shows` : 'not yet'),
  ));
}

function drawChecks(d: DashboardData): void {
  replace(parts.checks,
    h('h2', {}, 'Health checks'),
    h('table', { class: 'grid checks' }, ...d.checks.map((c) => h('tr', { attrs: { 'data-result': c.result } }, h('th', {}, c.name), h('td', { class: `result ${c.result}` }, c.result), h('td', {}, c.detail)))),
    d.lastError
      ? h('p', { class: 'last-error', attrs: { 'data-at': d.lastError.at } }, 'Last error, at ', time(d.lastError.at), ': ',
        // Red while some check fails; an error the daemon has since got over is history.
        h('span', { class: d.checks.some((c) => c.result === 'failed') ? 'error' : 'muted' }, d.lastError.message))
      : h('p', { class: 'muted' }, 'No check has failed since this dashboard opened.'),
  );
}

function shortDigest(digest: string): string {
  return digest.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]+$/, '$1');
}

function digestCell(digest: string | undefined): HTMLElement {
  if (!digest) return h('td', { class: 'muted' }, 'unknown');
  return h('td', { title: digest }, h('code', {}, shortDigest(digest)), ' ', h('vscode-button', { class: 'copy', attrs: { secondary: true, 'aria-label': `Copy ${digest}` }, onClick: () => copy(digest) }, 'Copy'));
}

function drawLayers(d: DashboardData): void {
  replace(parts.layers,
    h('h2', {}, 'Mounted layers'),
    d.layers.length === 0 ? h('p', { class: 'muted' }, d.metricsAddress ? 'No layer mounted.' : 'Known from the metrics only, which are off.') : h('table', { class: 'grid layers' },
      h('tr', {}, h('th', {}, 'layer'), h('th', { class: 'num' }, 'fetched'), h('th', { class: 'num' }, 'size'), h('th', {}, '')),
      ...d.layers.map((l) => {
        const share = l.size > 0 ? Math.min(1, l.fetched / l.size) : 0;
        return h('tr', {}, digestCell(l.digest), h('td', { class: 'num' }, bytes(l.fetched)), h('td', { class: 'num' }, bytes(l.size)),
          h('td', { class: 'progress' }, h('div', { class: 'bar', attrs: { role: 'progressbar', 'aria-valuenow': Math.round(share * 100), 'aria-valuemin': 0, 'aria-valuemax': 100 } }, h('div', { class: 'fill', style: { width: `${share * 100}%` } })), ` ${Math.round(share * 100)}%`));
      })),
  );
}

function drawSnapshots(d: DashboardData): void {
  replace(parts.snapshots,
    h('h2', {}, `Remote snapshots (${d.snapshots.length})`),
    d.snapshots.length === 0 ? h('p', { class: 'muted' }, d.condition === 'running' ? 'None: nothing was pulled lazily through this daemon.' : 'The daemon does not answer.') : h('table', { class: 'grid snapshots' },
      h('tr', {}, h('th', {}, 'layer'), h('th', {}, 'image'), h('th', {}, 'kind'), h('th', {}, 'snapshot')),
      ...d.snapshots.map((x) => h('tr', {}, digestCell(x.layer), h('td', {}, x.image ?? ''), h('td', {}, x.kind), h('td', { title: x.key }, h('code', {}, shortDigest(x.key)))))),
  );
}

function render(d: DashboardData): void {
  document.title = `Snapshotter: ${d.kind}`;
  if (!page.firstChild) {
    replace(page, parts.header, parts.facts, parts.checks, h('h2', {}, 'Metrics'), parts.metrics, parts.charts, parts.layers, parts.snapshots);
  }
  drawHeader(d);
  drawFacts(d);
  drawChecks(d);
  parts.metrics.textContent = d.metricsAddress
    ? `From ${d.metricsAddress}, the last ${count(d.series.t.length, 'sample')}; gaps where it did not answer.`
    : `The daemon serves no metrics: set metrics_address = "127.0.0.1:<port>" in ${d.config}.`;
  drawCharts(d);
  drawLayers(d);
  drawSnapshots(d);
}

onThemeChange(() => {
  if (figures) for (const f of Object.values(figures)) f.chart.draw();
});
start<DashboardData>(render);
