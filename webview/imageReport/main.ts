// The image report: per platform, a bar of the layers' sizes coloured by how each is pulled, the
// layer table (with what verify found in each TOC or zTOC, and what lazy reads fetched), and the
// findings with the buttons that act on them. Everything the image says is drawn as text.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '../shared/base.css';
import './style.css';
import { count, formatBytes, shortMediaType } from '../../src/core/format.js';
import type { Finding, ImageReportData, IndexCheck, LayerRow, LazyState, PlatformSection, ReportAction, Verification } from '../../src/extension/webviews/imageReportData.js';
import { h, replace, type Child } from '../shared/dom.js';
import { action, copy, start } from '../shared/host.js';

const STATES: Record<LazyState, string> = {
  estargz: 'lazy: eStargz',
  soci: 'lazy: SOCI',
  both: 'lazy: eStargz and SOCI',
  none: 'pulled whole',
  broken: 'claims lazy, failed verification',
};

const ACTIONS: Record<ReportAction, string> = {
  convert: 'Convert to eStargz...',
  index: 'Build SOCI Index...',
  verify: 'Verify',
  verifyDeep: 'Verify Deeply',
  refresh: 'Refresh',
};

const root = document.getElementById('report')!;

start<ImageReportData>((data) => {
  document.title = `Image report: ${data.reference}`;
  const view = data.view;
  replace(root,
    h('h1', {}, 'Image report'),
    h('p', { class: 'reference mono' }, data.reference),
    h('div', { class: 'actions' }, button('verify'), button('verifyDeep'), button('refresh', true)),
    data.error ? h('p', { class: 'error', attrs: { role: 'alert' } }, data.error) : null,
    !view && !data.error ? h('p', { class: 'loading' }, h('vscode-progress-ring'), 'Reading the image...') : null,
    view ? h('p', {}, 'Digest ', digest(view.digest)) : null,
    view ? verification(view.verification) : null,
    view?.findings.length ? findings(view.findings) : null,
    ...(view?.platforms ?? []).map((p) => platform(p, view!.digest)),
  );
});

function button(name: ReportAction, secondary = false): HTMLElement {
  return h('vscode-button', { attrs: { secondary, 'data-action': name }, onClick: () => action(name) }, ACTIONS[name]);
}

/** A digest with its Copy button; `short` shows its first 12 hex digits (the whole in the tooltip). */
function digest(value: string, short = false): HTMLElement {
  return h('span', { class: 'digest' },
    h('code', { title: value }, short ? `${value.slice(0, value.indexOf(':') + 13)}…` : value),
    h('vscode-button', { class: 'copy', title: `Copy ${value}`, attrs: { secondary: true, 'aria-label': `Copy ${value}` }, onClick: () => copy(value) }, 'Copy'),
  );
}

/** What the last verification found; before one, a finding says so, with the buttons. */
function verification(v: Verification | undefined): Child {
  if (!v) return null;
  const what = v.deep ? 'Verified deeply' : 'Verified';
  const outcome = v.ok ? 'every check passed' : 'problems found';
  return h('p', { class: `verification ${v.ok ? '' : 'error'}`, attrs: { 'data-ok': String(v.ok) } },
    `${what}${v.stale ? ' (an earlier image of this tag)' : ''}: ${outcome}; ${count(v.blobs, 'blob')}, ${formatBytes(v.bytes)} read back.`);
}

function platform(p: PlatformSection, image: string): HTMLElement {
  return h('section', { class: 'platform', attrs: { 'data-platform': p.name } },
    h('h2', {}, p.name),
    p.digest === image ? null : h('p', {}, 'Manifest ', digest(p.digest)),
    h('p', { class: 'verdict' }, p.verdict),
    bar(p.layers),
    legend(p.layers),
    p.sociIndexes.length ? h('p', {}, ...p.sociIndexes.flatMap((s, i) => [i ? '; ' : '', `SOCI index ${s.version}, ${count(s.ztocs, 'zTOC')}: `, digest(s.digest)])) : null,
    table(p.layers),
    p.findings.length ? findings(p.findings) : h('p', { class: 'muted' }, 'No findings.'),
  );
}

/** The layers side by side, each as wide as its share of the image's compressed size. */
function bar(layers: LayerRow[]): HTMLElement {
  const total = layers.reduce((n, l) => n + l.size, 0) || 1;
  return h('div', { class: 'bar', attrs: { role: 'img', 'aria-label': 'Layer sizes by lazy state' } },
    ...layers.map((l) => h('div', {
      class: `segment lazy-${l.state}`,
      title: `Layer ${l.index}: ${formatBytes(l.size)}, ${STATES[l.state]}`,
      style: { 'flex-grow': String(l.size / total) },
      attrs: { 'data-state': l.state },
    })),
  );
}

function legend(layers: LayerRow[]): HTMLElement {
  const shown = (Object.keys(STATES) as LazyState[]).filter((s) => layers.some((l) => l.state === s));
  return h('p', { class: 'legend' }, ...shown.map((s) => h('span', {}, h('span', { class: `swatch lazy-${s}` }), STATES[s])));
}

function table(layers: LayerRow[]): HTMLElement {
  const head = ['#', 'Digest', 'Compressed', 'Uncompressed', 'Media type', 'Lazy', 'TOC / zTOC', 'Fetched by lazy reads'];
  return h('table', { class: 'grid layers' },
    h('thead', {}, h('tr', {}, ...head.map((t, i) => h('th', { class: i === 0 || i === 2 || i === 3 ? 'num' : '' }, t)))),
    h('tbody', {}, ...layers.map(row)),
  );
}

function row(l: LayerRow): HTMLElement {
  return h('tr', { attrs: { 'data-digest': l.digest, 'data-state': l.state, 'data-size': l.size } },
    h('td', { class: 'num' }, l.index),
    h('td', {}, digest(l.digest, true), annotations(l.annotations)),
    h('td', { class: 'num size' }, formatBytes(l.size)),
    h('td', { class: 'num uncompressed' }, l.uncompressedSize === undefined ? h('span', { class: 'muted', title: 'No eStargz uncompressed-size annotation' }, 'unknown') : formatBytes(l.uncompressedSize)),
    h('td', { class: 'media-type mono', title: l.mediaType }, shortMediaType(l.mediaType)),
    h('td', { class: 'lazy' }, h('span', { class: `swatch lazy-${l.state}` }), l.formats.length ? l.formats.join(', ') : 'none', l.state === 'broken' ? h('span', { class: 'error' }, ' (failed)') : null),
    h('td', { class: 'index-check' }, ...checks(l)),
    h('td', { class: 'fetched' }, fetched(l)),
  );
}

function annotations(list: Array<[string, string]>): Child {
  if (!list.length) return null;
  return h('details', { class: 'annotations' },
    h('summary', {}, count(list.length, 'annotation')),
    h('dl', {}, ...list.flatMap(([k, v]) => [h('dt', { class: 'mono' }, k), h('dd', { class: 'mono' }, v)])),
  );
}

function checks(l: LayerRow): Child[] {
  const line = (what: string, c: IndexCheck, pieces: string): HTMLElement => h('div', { attrs: { 'data-check': what, 'data-ok': String(c.ok) } },
    h('div', { class: c.ok ? '' : 'error' }, `${what} ${c.ok ? 'verified' : 'failed'}: ${count(c.files, 'file')}, ${c.piecesVerified}/${c.pieces} ${pieces} checked`),
    ...c.details.map((d) => h('div', { class: 'muted detail' }, d)));
  const shown = [l.toc ? line('TOC', l.toc, 'chunks') : null, l.ztoc ? line('zTOC', l.ztoc, 'spans') : null];
  return shown.some(Boolean) ? shown : [h('span', { class: 'muted' }, l.formats.length ? 'not verified' : '')];
}

function fetched(l: LayerRow): Child {
  if (!l.fetched) return h('span', { class: 'muted' }, 'nothing yet');
  const share = l.size ? l.fetched.bytes / l.size : 0;
  return h('div', { attrs: { 'data-bytes': l.fetched.bytes, 'data-reads': l.fetched.reads } },
    `${formatBytes(l.fetched.bytes)} of ${formatBytes(l.size)} (${(100 * share).toFixed(share < 0.01 ? 2 : 1)}%), ${count(l.fetched.reads, 'read')}`,
    h('div', { class: 'meter' }, h('div', { class: 'meter-fill', style: { width: `${Math.min(100, 100 * share)}%` } })),
  );
}

function findings(list: Finding[]): HTMLElement {
  return h('ul', { class: 'findings' }, ...list.map((f) => h('li', { class: f.level, attrs: { 'data-level': f.level } },
    h('span', { class: 'finding-text' }, f.text),
    h('span', { class: 'actions' }, ...f.actions.map((a) => button(a, true))),
  )));
}
