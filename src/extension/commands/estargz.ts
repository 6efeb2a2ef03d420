// eStargz commands on the worker: Convert to eStargz... (then the new tag appears in the tree) and
// Verify Lazy Pull Readiness (then the per-layer report opens).
import * as vscode from 'vscode';
import { formatBytes } from '../../core/format.js';
import { verifyProblemLines } from '../../core/jobs/index.js';
import { formatReference } from '../../core/oci/index.js';
import type { ConvertResult, VerifyResult } from '../../worker/protocol.js';
import type { DockerfileAnalyzer } from '../dockerfile/DockerfileAnalyzer.js';
import type { JobManager } from '../jobs/JobManager.js';
import { isLazy, renderLazyReport } from '../reports/lazyReport.js';
import type { ReportDocuments } from '../reports/ReportDocuments.js';
import type { Services } from '../Services.js';
import type { LazyImagesTreeProvider } from '../tree/LazyImagesTreeProvider.js';
import type { Node } from '../tree/nodes.js';
import { askConvertOptions, type PathList } from './convertOptions.js';
import { imageRef, jobParams, shortName } from './jobParams.js';

export interface EstargzDeps {
  services: Services;
  jobs: JobManager;
  tree: LazyImagesTreeProvider;
  analyzer: DockerfileAnalyzer;
  reports: ReportDocuments;
}

export function estargzCommands({ services, jobs, tree, analyzer, reports }: EstargzDeps) {
  /** What the open Dockerfiles' lenses would prioritize. */
  const suggestions = (): PathList[] => vscode.workspace.textDocuments
    .filter((d) => d.languageId === 'dockerfile')
    .map((d) => ({ label: vscode.workspace.asRelativePath(d.uri), paths: [...new Set(analyzer.analyze(d).findings.flatMap((f) => f.files ?? []))] }))
    .filter((s) => s.paths.length > 0);

  return {
    async convertToEstargz(node?: Node): Promise<void> {
      if (node?.kind !== 'image') return;
      const source = node.ref;
      const choices = await askConvertOptions(source, suggestions());
      if (!choices) return;
      const { destination } = choices;
      const names = { title: `Convert ${formatReference(source)} to eStargz at ${formatReference(destination)}`, label: `eStargz ${shortName(source)} → ${shortName(destination)}` };
      const result = await jobs.run<ConvertResult>('convert', names, {
        source: formatReference(source),
        destination: formatReference(destination),
        format: 'estargz',
        level: choices.level,
        ...(choices.chunkSize !== undefined ? { chunkSize: choices.chunkSize } : {}),
        prioritized: choices.prioritized,
        allPlatforms: choices.allPlatforms,
        ...(await jobParams(services, [source, destination])),
      }, (r) => `${r.descriptor.digest}: ${r.layers.length} layers, ${formatBytes(sum(r.layers, 'sourceSize'))} → ${formatBytes(sum(r.layers, 'size'))}`);
      if (!result) return;
      tree.refresh(node.parentId); // the new tag sits beside the source
      if (result.missing.length) {
        void vscode.window.showWarningMessage(`${formatReference(destination)} is written, but no layer has these prioritized files: ${result.missing.join(', ')}`);
      } else {
        void vscode.window.showInformationMessage(`Converted to eStargz: ${formatReference(destination)} (${result.layers.length} layers).`);
      }
    },

    async verifyLazyPull(node?: Node): Promise<void> {
      const ref = imageRef(node);
      if (!ref) return;
      const names = { title: `Verify lazy pull readiness of ${formatReference(ref)}`, label: `Lazy pull ${shortName(ref)}` };
      const result = await jobs.run<VerifyResult>('verify', names, { reference: formatReference(ref), ...(await jobParams(services, [ref])) }, (r) => {
        const layers = r.layers ?? [];
        return `${r.ok ? 'ready' : 'NOT READY'}: ${layers.filter(isLazy).length} of ${layers.length} layers lazy${r.ok ? '' : `; ${verifyProblemLines(r).length} problem(s)`}`;
      });
      if (result) await reports.show(`${shortName(ref)} lazy pull`, formatReference(ref), renderLazyReport(formatReference(ref), result));
    },
  };
}

function sum<K extends 'size' | 'sourceSize'>(layers: ConvertResult['layers'], key: K): number {
  return layers.reduce((total, l) => total + l[key], 0);
}
