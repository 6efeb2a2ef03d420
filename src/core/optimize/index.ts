// Recording what a workload reads as it starts (run in a runc container, traced with strace) and
// the startup profile that puts those files first when the image is converted.
export { checkRecorder, DEFAULT_PERIOD_SECONDS, recordWorkload, type Recording, type RecordOptions, type RecordStep } from './record.js';
export { parsePrioritizeFile, parseProfile, PROFILE_KIND, PROFILE_VERSION, profilePaths, profilePrefetchFiles, profileText, type PrioritizeList, type ProfileFile, type ProfileRun, type StartupProfile } from './profile.js';
export { unpackLayers, type UnpackedRoot, type UnpackOptions } from './rootfs.js';
export type { Workload, WorkloadOverrides } from './workload.js';
