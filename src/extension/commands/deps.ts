// What the command modules share, built once in activate() and handed to each.
import type { DockerfileAnalyzer } from '../dockerfile/DockerfileAnalyzer.js';
import type { StartupProfiles } from '../dockerfile/StartupProfiles.js';
import type { JobManager } from '../jobs/JobManager.js';
import type { ReportDocuments } from '../reports/ReportDocuments.js';
import type { Services } from '../Services.js';
import type { ImageReports } from '../webviews/ImageReports.js';
import type { LazyImagesTreeProvider } from '../tree/LazyImagesTreeProvider.js';
import type { WizardMemory } from './wizard.js';

export interface CommandDeps {
  services: Services;
  jobs: JobManager;
  tree: LazyImagesTreeProvider;
  analyzer: DockerfileAnalyzer;
  reports: ReportDocuments;
  imageReports: ImageReports;
  memory: WizardMemory;
  profiles: StartupProfiles;
}
