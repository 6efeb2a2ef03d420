import { Option, type Command } from 'commander';
import { LazyImageError } from '../../core/errors.js';
import { verifyImage, verifyProblemLines, type LayerReport, type VerifyReport } from '../../core/jobs/index.js';
import { formatReference, parseReference } from '../../core/oci/index.js';
import { withStores } from '../context.js';
import { count, formatBytes, printJson, terminalLines } from '../format.js';

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('check an image: every manifest and blob against its digest, and every layer the way a lazy-pulling snapshotter would')
    .argument('<ref>', 'registry/repo[:tag|@digest] or oci:<dir>[:tag|@digest]')
    .option('--quick', 'only manifests, eStargz footers and TOC digests (no whole blobs, no chunk digests)')
    .addOption(new Option('--deep', 'also check each index against its layer, reading every layer once more: eStargz TOC entries against the tar headers, zTOCs field by field against a rebuilt one').conflicts('quick'))
    .option('--json', 'print the report as JSON')
    .action(async (input: string, options: { json?: boolean; quick?: boolean; deep?: boolean }, command: Command) => {
      const ref = parseReference(input);
      await withStores(command, async (stores, signal) => {
        const report = await verifyImage(await stores.open(ref), ref.digest ?? ref.tag, { signal, quick: options.quick, deep: options.deep });
        if (options.json) printJson({ reference: formatReference(ref), ...report });
        else process.stdout.write(renderReport(formatReference(ref), report, options.quick === true));
        // A failed check is a failed command, whatever the output format.
        if (!report.ok) {
          const lines = verifyProblemLines(report);
          throw new LazyImageError(report.problems[0]?.code ?? 'INVALID_FORMAT', `${formatReference(ref)} failed verification: ${count(lines.length, 'problem')}, first ${lines[0]!}`, { ref: formatReference(ref) });
        }
      });
    });
}

const V1_NOTE = ' (soci-snapshotter reads v1 indexes only with [pull_modes.soci_v1] enable = true, off by default since v0.10)';

function renderReport(reference: string, report: VerifyReport, quick: boolean): string {
  const lazyCount = report.layers.filter((l) => l.lazy.lazy).length;
  const read = quick ? 'quick check' : `${report.blobs} blobs, ${formatBytes(report.bytes)} read`;
  const lines = [
    `${report.ok ? 'OK' : 'FAILED'}: ${reference} ${report.digest}, ${read}`,
    ...report.problems.map((p) => `  ${p.digest}: ${p.message}`),
    `Lazy pull: ${lazyCount} of ${count(report.layers.length, 'layer')} ready for stargz-snapshotter, ${report.layers.filter((l) => l.soci?.lazy).length} for soci-snapshotter`,
    ...report.soci.map((s) => `  SOCI ${s.version ?? ''} index ${s.index} for ${s.image}: ${count(s.ztocs, 'zTOC')}${s.problems.length ? '' : ', found as the snapshotter finds it'}${s.version === 'v1' ? V1_NOTE : ''}`),
    ...report.soci.flatMap((s) => s.problems.map((p) => `      problem: ${p}`)),
    ...report.layers.flatMap(renderLayer),
  ];
  return terminalLines(lines);
}

function renderLayer(l: LayerReport): string[] {
  return [...renderEstargz(l), ...renderSoci(l)];
}

function renderSoci(l: LayerReport): string[] {
  const s = l.soci;
  if (!s) return [];
  const spans = s.spansVerified ? `, ${s.spansVerified}/${s.spans} span digests verified` : `, ${s.spans} spans`;
  const rebuilt = s.rebuilt && s.lazy ? ', the same zTOC as rebuilt from the layer' : '';
  const p = s.prefetch;
  const prefetch = p && p.spans ? [`      prefetch at mount (where [prefetch] is enabled): ${count(p.spans, 'span')}, ${formatBytes(p.bytes)}, covering ${count(p.files, 'file')} (artifact ${p.artifact})`] : [];
  return [`      soci-snapshotter: ${s.lazy ? 'lazy' : 'NOT LAZY'} with zTOC ${s.ztoc} (${s.files} entries${spans}${rebuilt})`, ...prefetch, ...s.problems.map((p) => `      problem: ${p}`)];
}

function renderEstargz(l: LayerReport): string[] {
  const v = l.lazy;
  const head = `  ${l.label} ${l.digest} (${formatBytes(l.size)}): `;
  if (v.format === 'none') return [head + (v.problems.length ? 'NOT LAZY' : 'plain layer'), ...v.problems.map((p) => `      problem: ${p}`), ...v.notes.map((n) => `      ${n}`)];
  const layout = v.layout!;
  const prefetch = layout.prefetch.kind === 'landmark' ? `prefetch ${formatBytes(layout.prefetch.bytes)} (${layout.prefetch.files} files)`
    : layout.prefetch.kind === 'none' ? 'no prefetch' : 'default prefetch';
  const chunks = v.chunksVerified ? `, ${v.chunksVerified}/${layout.chunks} chunk digests verified` : '';
  const headers = v.headersVerified ? `, ${v.headersVerified} tar headers match the TOC` : '';
  return [
    `${head}${v.lazy ? 'eStargz, lazy' : 'eStargz, NOT LAZY'}: ${layout.files} files, ${layout.chunks} chunks, ${prefetch}${chunks}${headers}`,
    `      TOC ${v.tocDigest}`,
    ...v.problems.map((p) => `      problem: ${p}`),
    ...v.notes.map((n) => `      note: ${n}`),
  ];
}
