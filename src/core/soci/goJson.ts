// JSON exactly as Go's encoding/json writes the OCI image-spec structs: compact, struct fields in
// declaration order (empty ones left out), map keys sorted, and <, >, &, U+2028 and U+2029
// escaped. The soci snapshotter re-serializes a SOCI index this way and stores it under the
// original digest, so any other byte sequence makes it fall back to a full pull.
import type { Descriptor, ImageIndex, ImageManifest, Platform } from '../oci/index.js';

/** JSON text with <, >, &, U+2028 and U+2029 escaped as encoding/json escapes them (only strings can hold them). */
export function goEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function goString(s: string): string {
  return goEscape(JSON.stringify(s));
}

function goMap(m: Record<string, string> | undefined): string | undefined {
  if (!m || Object.keys(m).length === 0) return undefined;
  const keys = Object.keys(m).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return `{${keys.map((k) => `${goString(k)}:${goString(m[k]!)}`).join(',')}}`;
}

function goStrings(list: string[] | undefined): string | undefined {
  return list && list.length ? `[${list.map(goString).join(',')}]` : undefined;
}

/** `{"k":v,...}` from [key, encoded value] pairs, dropping the undefined (omitempty) ones. */
function object(fields: Array<[string, string | undefined]>): string {
  return `{${fields.filter(([, v]) => v !== undefined).map(([k, v]) => `${goString(k)}:${v}`).join(',')}}`;
}

const str = (s: string | undefined): string | undefined => (s ? goString(s) : undefined);

export function goPlatform(p: Platform | undefined): string | undefined {
  if (!p) return undefined;
  return object([
    ['architecture', goString(p.architecture)],
    ['os', goString(p.os)],
    ['os.version', str(p['os.version'])],
    ['os.features', goStrings(p['os.features'])],
    ['variant', str(p.variant)],
    ['features', goStrings(p.features)],
  ]);
}

export function goDescriptor(d: Descriptor): string {
  return object([
    ['mediaType', goString(d.mediaType)],
    ['digest', goString(d.digest)],
    ['size', String(d.size)],
    ['urls', goStrings(d.urls)],
    ['annotations', goMap(d.annotations)],
    ['data', str(d.data)],
    ['platform', goPlatform(d.platform)],
    ['artifactType', str(d.artifactType)],
  ]);
}

export function goManifest(m: ImageManifest): Buffer {
  return Buffer.from(object([
    ['schemaVersion', String(m.schemaVersion)],
    ['mediaType', str(m.mediaType)],
    ['artifactType', str(m.artifactType)],
    ['config', goDescriptor(m.config)],
    ['layers', `[${m.layers.map(goDescriptor).join(',')}]`],
    ['subject', m.subject ? goDescriptor(m.subject) : undefined],
    ['annotations', goMap(m.annotations)],
  ]));
}

export function goIndex(i: ImageIndex): Buffer {
  return Buffer.from(object([
    ['schemaVersion', String(i.schemaVersion)],
    ['mediaType', str(i.mediaType)],
    ['artifactType', str(i.artifactType)],
    ['manifests', `[${i.manifests.map(goDescriptor).join(',')}]`],
    ['subject', i.subject ? goDescriptor(i.subject) : undefined],
    ['annotations', goMap(i.annotations)],
  ]));
}
