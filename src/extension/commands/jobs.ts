// Commands that run on the worker: Copy Image To..., Verify Image.
import * as vscode from 'vscode';
import { formatBytes } from '../../core/format.js';
import { verifyProblemLines } from '../../core/jobs/index.js';
import { formatReference } from '../../core/oci/index.js';
import type { CopyResult, VerifyResult } from '../../worker/protocol.js';
import type { JobManager } from '../jobs/JobManager.js';
import type { Services } from '../Services.js';
import type { Node } from '../tree/nodes.js';
import { imageRef, jobParams, shortName } from './jobParams.js';
import { askReference } from './prompts.js';

export function jobCommands(services: Services, jobs: JobManager) {
  return {
    async copyImage(node?: Node): Promise<void> {
      const source = imageRef(node);
      if (!source) return;
      const destination = await askReference(`Copy ${formatReference(source)}`, 'Destination: a registry repository, or an OCI layout folder (created if missing)');
      if (!destination) return;
      const names = { title: `Copy ${formatReference(source)} to ${formatReference(destination)}`, label: `Copy ${shortName(source)} → ${shortName(destination)}` };
      const result = await jobs.run<CopyResult>('copy', names, {
        source: formatReference(source),
        destination: formatReference(destination),
        ...(await jobParams(services, [source, destination])),
      }, (r) => {
        // A 1.2 worker does not say which SOCI indexes came along.
        const soci = r.sociIndexes?.length ? `; ${r.sociIndexes.length} SOCI index${r.sociIndexes.length === 1 ? '' : 'es'} with it` : '';
        return `${r.descriptor.digest}: ${r.blobs.uploaded} blobs copied (${formatBytes(r.bytesUploaded)}), ${r.blobs.existed} already there, ${r.blobs.mounted} mounted${soci}`;
      });
      for (const warning of result?.warnings ?? []) void vscode.window.showWarningMessage(`Copied ${formatReference(source)}, but ${warning}`);
    },

    async verifyImage(node?: Node): Promise<void> {
      const ref = imageRef(node);
      if (!ref) return;
      const result = await jobs.run<VerifyResult>('verify', { title: `Verify ${formatReference(ref)}`, label: `Verify ${shortName(ref)}` }, { reference: formatReference(ref), ...(await jobParams(services, [ref])) },
        (r) => `${r.ok ? 'valid' : 'INVALID'}: ${r.blobs} blobs, ${formatBytes(r.bytes)} read${r.problems.length ? `; ${r.problems.length} problem(s)` : ''}`);
      if (!result) return;
      if (result.ok) void vscode.window.showInformationMessage(`${formatReference(ref)} is valid: ${result.blobs} blobs, ${formatBytes(result.bytes)}, every digest and size checked.`);
      else void vscode.window.showErrorMessage(`${formatReference(ref)} failed verification: ${verifyProblemLines(result).join('; ')}`);
    },
  };
}
