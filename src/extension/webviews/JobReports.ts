// The job report panels, one per job that makes lazy images (convert, index, optimize): how it
// ended, drawn from its record. A job that has ended does not change, so the report is whole when
// it opens and a hidden panel has nothing to do. After a window reload a panel shows what it saved.
// Its buttons copy a reference (ReportPanel does), run Copy Image To... on one of the report's
// images, or open an optimize job's startup profile report while the job is still listed.
import * as vscode from 'vscode';
import { parseReference } from '../../core/oci/index.js';
import type { JobRecord, JobReporter } from '../jobs/JobManager.js';
import { jobReportData } from '../reports/jobReport.js';
import type { ReportDocuments } from '../reports/ReportDocuments.js';
import { imageNode } from '../tree/nodes.js';
import type { JobReportData } from './jobReportData.js';
import type { ReportPanel } from './ReportPanel.js';
import { ReportPanels } from './ReportPanels.js';

const KIND = { viewType: 'lazyImages.jobReport', bundle: 'jobReport' };

export class JobReports implements JobReporter, vscode.Disposable {
  private readonly panels: ReportPanels<JobReportData>;
  /** What each panel shows: its buttons may act only on that. */
  private readonly shown = new Map<ReportPanel<JobReportData>, JobReportData>();
  /** The records of the jobs whose reports are open, by report key: their startup profile reports. */
  private readonly records = new Map<string, JobRecord>();

  constructor(extensionUri: vscode.Uri, private readonly documents: ReportDocuments) {
    this.panels = new ReportPanels<JobReportData>(extensionUri, KIND, (d) => d.key, (panel, saved) => {
      // A page that never got its data has no job to be the report of.
      if (!saved) return panel.dispose();
      // The job's record went with the window, and its startup profile report with it.
      this.present(panel, { ...saved, startup: saved.startup && { ...saved.startup, report: false } });
    });
  }

  describes(record: JobRecord): boolean {
    return record.makes !== undefined;
  }

  async show(record: JobRecord): Promise<void> {
    const data = jobReportData(record, true);
    if (!data) return;
    this.records.set(data.key, record);
    const title = `${record.label} (${record.status})`;
    this.present(this.panels.open(data.key, title), data, title);
  }

  private present(panel: ReportPanel<JobReportData>, data: JobReportData, title?: string): void {
    if (!this.shown.has(panel)) {
      panel.onAction(({ action, args }) => void this.act(panel, action, args));
      panel.onDidDispose(() => {
        this.shown.delete(panel);
        this.records.delete(data.key);
      });
    }
    this.shown.set(panel, data);
    panel.show(data, title);
  }

  /** A button: its action and reference are checked against what the panel shows before anything runs. */
  private async act(panel: ReportPanel<JobReportData>, action: string, args: string[]): Promise<void> {
    const data = this.shown.get(panel);
    if (!data) return;
    if (action === 'copyTo') {
      const shown = data.references.find((r) => r.image && r.reference === args[0]);
      if (!shown) return;
      await vscode.commands.executeCommand('lazyImages.copyImage', imageNode(parseReference(shown.reference)));
    } else if (action === 'startupReport') {
      const report = this.records.get(data.key)?.report;
      if (report) await this.documents.show(report);
    }
  }

  dispose(): void {
    this.panels.dispose();
  }
}
