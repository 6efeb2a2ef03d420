// SOCI commands: Build SOCI Index... on an image, a job on the worker (then the SOCI-enabled image
// or the index appears in the tree); and Open File (lazy) on a file of a zTOC or an eStargz TOC.
import * as vscode from 'vscode';
import { formatBytes } from '../../core/format.js';
import { formatReference } from '../../core/oci/index.js';
import type { IndexResult } from '../../worker/protocol.js';
import type { JobManager } from '../jobs/JobManager.js';
import { LazyFiles } from '../LazyFiles.js';
import type { Services } from '../Services.js';
import type { LazyImagesTreeProvider } from '../tree/LazyImagesTreeProvider.js';
import type { Node } from '../tree/nodes.js';
import { jobParams, shortName } from './jobParams.js';
import { askSociOptions } from './sociOptions.js';

export function sociCommands(services: Services, jobs: JobManager, tree: LazyImagesTreeProvider) {
  return {
    async buildSociIndex(node?: Node): Promise<void> {
      if (node?.kind !== 'image') return;
      const source = node.ref;
      const choices = await askSociOptions(source);
      if (!choices) return;
      const { destination, version } = choices;
      const where = version === 'v2' ? ` at ${formatReference(destination)}` : '';
      const names = { title: `Build a SOCI index ${version} for ${formatReference(source)}${where}`, label: `SOCI ${version} ${shortName(source)}${version === 'v2' ? ` → ${shortName(destination)}` : ''}` };
      const result = await jobs.run<IndexResult>('index', names, {
        source: formatReference(source),
        destination: formatReference(destination),
        sociVersion: version,
        ...(choices.spanSize !== undefined ? { spanSize: choices.spanSize } : {}),
        ...(choices.minLayerSize !== undefined ? { minLayerSize: choices.minLayerSize } : {}),
        allPlatforms: choices.allPlatforms,
        ...(await jobParams(services, [source, destination])),
      }, summary);
      if (!result) return;
      tree.refresh(node.parentId); // v2's new tag sits beside the source; v1's index hangs off it
      void vscode.window.showInformationMessage(`Built SOCI index ${version} for ${formatReference(source)}${where}: ${summary(result)}.`);
    },

    async openLazyFile(node?: Node): Promise<void> {
      if (node?.kind !== 'layerFile') return;
      await vscode.commands.executeCommand('vscode.open', LazyFiles.uri(node.source, node.entry.path), { preview: true });
    },
  };
}

/** `2 zTOCs (1.2 MiB); 1 layer pulled whole: smaller than ...`, over every platform indexed. */
function summary(r: IndexResult): string {
  const layers = r.indexes.flatMap((ix) => ix.layers);
  const indexed = layers.filter((l) => l.ztoc);
  const skipped = layers.filter((l) => l.skipped);
  const size = indexed.reduce((total, l) => total + (l.ztoc?.size ?? 0), 0);
  const reasons = [...new Set(skipped.map((l) => l.skipped))].join('; ');
  return `${indexed.length} zTOC${indexed.length === 1 ? '' : 's'} (${formatBytes(size)})${skipped.length ? `; ${skipped.length} layer${skipped.length === 1 ? '' : 's'} pulled whole: ${reasons}` : ''}`;
}
