// Jobs on the worker: Copy Image To... and Check Digests (from a tree node or the palette), and
// the Jobs node's own commands: Show Result, Reveal the New Tag, Clear Finished Jobs.
import * as vscode from 'vscode';
import { count, formatBytes } from '../../core/format.js';
import { verifyProblemLines } from '../../core/jobs/index.js';
import { formatReference } from '../../core/oci/index.js';
import type { CopyResult, VerifyResult } from '../../worker/protocol.js';
import type { JobRecord } from '../jobs/JobManager.js';
import { imageNode, imageParentId, type Node } from '../tree/nodes.js';
import type { CommandDeps } from './deps.js';
import { jobParams, jobSpec } from './jobParams.js';
import { imageOrPick } from './pickImage.js';
import { askReference } from './prompts.js';

export function jobCommands({ services, jobs, tree, reports }: CommandDeps, reveal: (node: Node) => Promise<void>) {
  /** The job a command is about: the node's, or one the user picks among those that ended. */
  const jobOf = async (node: Node | undefined, title: string, has: (r: JobRecord) => boolean = () => true): Promise<JobRecord | undefined> => {
    if (node?.kind === 'job') return node.record;
    const ended = jobs.jobs.filter((r) => r.status !== 'running' && has(r));
    if (ended.length === 0) {
      void vscode.window.showInformationMessage('No finished job has that to show.');
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(ended.map((record) => ({ label: record.label, description: `${record.status} · ${record.where}`, record })), { title });
    return picked?.record;
  };

  return {
    async copyImage(node?: Node): Promise<void> {
      const source = await imageOrPick(services, node, 'Copy Image To');
      if (!source) return;
      const destination = await askReference(`Copy ${formatReference(source)}`, 'Destination: a registry repository, or an OCI layout folder (a new or empty folder becomes one)');
      if (!destination) return;
      const result = await jobs.run<CopyResult>('copy', {
        ...jobSpec('Copy', `Copy ${formatReference(source)} to ${formatReference(destination)}`, source, destination),
        summarize: (r) => {
          // A 1.2 worker does not say which SOCI indexes came along.
          const soci = r.sociIndexes?.length ? `; ${count(r.sociIndexes.length, 'SOCI index', 'SOCI indexes')} with it` : '';
          return `${r.descriptor.digest}: ${count(r.blobs.uploaded, 'blob')} copied (${formatBytes(r.bytesUploaded)}), ${r.blobs.existed} already there, ${r.blobs.mounted} mounted${soci}`;
        },
      }, { source: formatReference(source), destination: formatReference(destination), ...(await jobParams(services, [source, destination])) });
      if (!result) return;
      tree.refresh(imageParentId(destination));
      for (const warning of result.warnings ?? []) void vscode.window.showWarningMessage(`Copied ${formatReference(source)}, but ${warning}`);
    },

    /** Reads every blob back against its digest and size (Verify Lazy Pull Readiness also checks laziness). */
    async verifyImage(node?: Node): Promise<void> {
      const ref = await imageOrPick(services, node, 'Check Digests');
      if (!ref) return;
      const result = await jobs.run<VerifyResult>('verify', {
        ...jobSpec('Check digests', `Check the digests of ${formatReference(ref)}`, ref),
        summarize: (r) => `${r.ok ? 'valid' : 'INVALID'}: ${count(r.blobs, 'blob')}, ${formatBytes(r.bytes)} read${r.problems.length ? `; ${count(r.problems.length, 'problem')}` : ''}`,
      }, { reference: formatReference(ref), ...(await jobParams(services, [ref])) });
      if (!result) return;
      if (result.ok) void vscode.window.showInformationMessage(`${formatReference(ref)} is valid: ${count(result.blobs, 'blob')}, ${formatBytes(result.bytes)}, every digest and size checked.`);
      else void vscode.window.showErrorMessage(`${formatReference(ref)} failed the check: ${verifyProblemLines(result).join('; ')}`);
    },

    /** The job report of a job that makes lazy images; else its report, or its outcome and the worker's answer as a read-only document. */
    async showJobResult(node?: Node): Promise<void> {
      const record = await jobOf(node, 'Show Result');
      if (!record) return;
      if (record.view) return record.view();
      if (await jobs.showReport(record)) return;
      if (record.report) {
        await reports.show(record.report);
        return;
      }
      const seconds = record.ended === undefined ? '' : ` after ${((record.ended - record.started) / 1000).toFixed(1)} s`;
      const markdown = [
        `# ${record.title}`, '', `**${record.status}**${seconds}, in ${record.where}.`, '', record.detail ?? '',
        ...(record.result === undefined ? [] : ['', '```json', JSON.stringify(record.result, null, 2), '```']),
      ].join('\n');
      await reports.show({ title: `job ${record.id} ${record.label.replace(/\s+/g, ' ')}`, subject: String(record.id), markdown: `${markdown}\n` });
    },

    async revealJobTag(node?: Node): Promise<void> {
      const record = await jobOf(node, 'Reveal the New Tag', (r) => r.status === 'succeeded' && r.reveals?.tag !== undefined);
      const ref = record?.reveals;
      if (!ref?.tag) return;
      await reveal(imageNode(ref));
    },

    clearFinishedJobs(): void {
      jobs.clearFinished();
    },
  };
}
