// SOCI commands: Build SOCI Index... on an image, a job on the worker (then the SOCI-enabled image
// or the index appears in the tree); and Open File (lazy) on a file of a zTOC or an eStargz TOC.
import * as vscode from 'vscode';
import { count, formatBytes } from '../../core/format.js';
import { formatReference } from '../../core/oci/index.js';
import type { IndexResult } from '../../worker/protocol.js';
import { LazyFiles } from '../LazyFiles.js';
import { imageParentId, type Node } from '../tree/nodes.js';
import type { CommandDeps } from './deps.js';
import { jobParams, jobSpec } from './jobParams.js';
import { imageOrPick } from './pickImage.js';
import { askSociOptions } from './sociOptions.js';

export function sociCommands({ services, jobs, tree, memory }: CommandDeps) {
  return {
    async buildSociIndex(node?: Node): Promise<void> {
      const source = await imageOrPick(services, node, 'Build SOCI Index');
      if (!source) return;
      const choices = await askSociOptions(source, memory);
      if (!choices) return;
      const { destination, version } = choices;
      const where = version === 'v2' ? ` at ${formatReference(destination)}` : '';
      const { record, result } = await jobs.runJob<IndexResult>('index', {
        ...jobSpec(`SOCI ${version}`, `Build a SOCI index ${version} for ${formatReference(source)}${where}`, source, version === 'v2' ? destination : undefined),
        // v1 makes no new tag to reveal, but writes its indexes where the image is.
        destination,
        makes: `SOCI ${version}`,
        summarize: summary,
      }, {
        source: formatReference(source),
        destination: formatReference(destination),
        sociVersion: version,
        spanSize: choices.spanSize,
        minLayerSize: choices.minLayerSize,
        allPlatforms: choices.allPlatforms,
        ...(await jobParams(services, [source, destination])),
      });
      if (!result) return;
      tree.refresh(imageParentId(source)); // v2's new tag sits beside the source; v1's index hangs off it
      void jobs.tell(record, 'info', `Built SOCI index ${version} for ${formatReference(source)}${where}: ${summary(result)}.`);
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
  return `${count(indexed.length, 'zTOC')} (${formatBytes(size)})${skipped.length ? `; ${count(skipped.length, 'layer')} pulled whole: ${reasons}` : ''}`;
}
