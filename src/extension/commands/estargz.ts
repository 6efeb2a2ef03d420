// eStargz commands on the worker: Convert to eStargz... (then the new tag appears in the tree),
// Verify Lazy Pull Readiness and Verify Deeply (then the per-layer report opens). From a tree node
// or the palette.
import * as vscode from 'vscode';
import { count, formatBytes } from '../../core/format.js';
import { imageLaziness } from '../../core/image/index.js';
import { verifyProblemLines } from '../../core/jobs/index.js';
import { formatReference, type ImageReference } from '../../core/oci/index.js';
import type { ConvertResult, VerifyResult } from '../../worker/protocol.js';
import { isLazy, renderLazyReport } from '../reports/lazyReport.js';
import type { Report } from '../reports/ReportDocuments.js';
import { imageParentId, type Node } from '../tree/nodes.js';
import { askConvertOptions, type PathList } from './convertOptions.js';
import type { CommandDeps } from './deps.js';
import { jobParams, jobSpec, shortName } from './jobParams.js';
import { imageOrPick } from './pickImage.js';

export function estargzCommands({ services, jobs, tree, analyzer, reports, memory }: CommandDeps) {
  /** What the open Dockerfiles' lenses would prioritize. */
  const suggestions = (): PathList[] => vscode.workspace.textDocuments
    .filter((d) => d.languageId === 'dockerfile')
    .map((d) => ({ label: vscode.workspace.asRelativePath(d.uri), paths: [...new Set(analyzer.analyze(d).findings.flatMap((f) => f.files ?? []))] }))
    .filter((s) => s.paths.length > 0);

  /** Whether converting again is what the user wants, for an image that is eStargz already. */
  const alreadyEstargz = async (source: ImageReference): Promise<boolean | undefined> => {
    const image = await imageLaziness(await services.stores.open(source), source.digest ?? source.tag).catch(() => undefined);
    if (!image || image.layers.length === 0 || !image.layers.every((l) => l.estargz)) return false;
    const again = await vscode.window.showWarningMessage(
      `${shortName(source)} is eStargz already. Convert it again?`,
      { modal: true, detail: 'A second conversion makes a new image with the options you choose (level, chunk size, prioritized files); the layers stay eStargz.' },
      'Convert Again',
    );
    return again ? true : undefined;
  };

  /** The verify job, with `deep` also each index against its layer's bytes; then the per-layer report. */
  const verifyLazyPull = async (node: Node | undefined, deep: boolean): Promise<void> => {
    const what = deep ? 'Verify Deeply' : 'Verify Lazy Pull Readiness';
    const ref = await imageOrPick(services, node, what);
    if (!ref) return;
    const reference = formatReference(ref);
    let report: Report | undefined; // made once, for the Jobs list and for the editor
    const result = await jobs.run<VerifyResult>('verify', {
      ...jobSpec('Lazy pull', `${deep ? 'Deeply verify' : 'Verify'} lazy pull readiness of ${reference}`, ref),
      summarize: (r) => {
        const layers = r.layers ?? [];
        return `${r.ok ? 'ready' : 'NOT READY'}: ${layers.filter(isLazy).length} of ${count(layers.length, 'layer')} lazy${r.ok ? '' : `; ${count(verifyProblemLines(r).length, 'problem')}`}`;
      },
      report: (r) => (report = { title: `${shortName(ref)} lazy pull${deep ? ' (deep)' : ''}`, subject: reference, markdown: renderLazyReport(reference, r) }),
    }, { reference, deep, ...(await jobParams(services, [ref])) });
    // A worker older than protocol 1.4 ignores `deep` and runs the ordinary checks.
    if (deep && result && result.deep !== true) void vscode.window.showWarningMessage(`The worker did not check ${reference} deeply (it predates protocol 1.4): the report is that of Verify Lazy Pull Readiness.`);
    if (report) await reports.show(report);
  };

  return {
    async convertToEstargz(node?: Node): Promise<void> {
      const source = await imageOrPick(services, node, 'Convert to eStargz');
      if (!source) return;
      const again = await alreadyEstargz(source);
      if (again === undefined) return;
      const choices = await askConvertOptions(source, suggestions(), memory, again);
      if (!choices) return;
      const { destination } = choices;
      const result = await jobs.run<ConvertResult>('convert', {
        ...jobSpec('eStargz', `Convert ${formatReference(source)} to eStargz at ${formatReference(destination)}`, source, destination),
        summarize: (r) => `${r.descriptor.digest}: ${count(r.layers.length, 'layer')}, ${formatBytes(sum(r.layers, 'sourceSize'))} → ${formatBytes(sum(r.layers, 'size'))}`,
      }, {
        source: formatReference(source),
        destination: formatReference(destination),
        format: 'estargz',
        level: choices.level,
        chunkSize: choices.chunkSize,
        prioritized: choices.prioritized,
        allPlatforms: choices.allPlatforms,
        ...(await jobParams(services, [source, destination])),
      });
      if (!result) return;
      tree.refresh(imageParentId(destination)); // the new tag sits beside the source
      if (result.missing.length) {
        void vscode.window.showWarningMessage(`${formatReference(destination)} is written, but no layer has these prioritized files: ${result.missing.join(', ')}`);
      } else {
        void vscode.window.showInformationMessage(`Converted to eStargz: ${formatReference(destination)} (${count(result.layers.length, 'layer')}).`);
      }
    },

    verifyLazyPull: (node?: Node): Promise<void> => verifyLazyPull(node, false),
    verifyDeep: (node?: Node): Promise<void> => verifyLazyPull(node, true),
  };
}

function sum<K extends 'size' | 'sourceSize'>(layers: ConvertResult['layers'], key: K): number {
  return layers.reduce((total, l) => total + l[key], 0);
}
