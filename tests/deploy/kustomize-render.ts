import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

/** A rendered Kubernetes object. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: unknown;
}

interface Kustomization {
  namespace?: string;
  resources?: string[];
  labels?: Array<{ pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }>;
  replicas?: Array<{ name: string; count: number }>;
  patches?: Array<{ path: string; target?: { kind?: string; name?: string } }>;
  images?: Array<{ name: string; newName?: string; newTag?: string }>;
  configMapGenerator?: Array<{ name: string; files: string[]; options?: { disableNameSuffixHash?: boolean; labels?: Record<string, string> } }>;
}

/** Kinds without a namespace among those we ship. */
const CLUSTER_SCOPED = new Set(['Namespace']);
/** Kinds whose pod template `labels` with `includeTemplates` reaches. */
const WITH_TEMPLATE = new Set(['Deployment', 'Job', 'StatefulSet', 'DaemonSet']);

type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Strategic merge for the patches we write: maps merge, scalars and lists replace. */
function merge(target: Json, patch: Json): Json {
  const out: Json = { ...target };
  for (const [k, v] of Object.entries(patch)) out[k] = isMap(v) && isMap(out[k]) ? merge(out[k], v) : v;
  return out;
}

function loadDocs(path: string, label: string): Manifest[] {
  // YAML 1.1 as Kubernetes reads it (0440 is octal, as in a Secret volume's defaultMode).
  return parseAllDocuments(readFileSync(path, 'utf8'), { version: '1.1' }).map((doc) => {
    assert.equal(doc.errors.length, 0, `${label}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS() as Manifest;
  });
}

/**
 * Kustomize rendering of the features our kustomizations use (resources, namespace, labels with
 * includeTemplates, replicas, strategic-merge patches incl. `$patch: delete`, configMapGenerator
 * with files), in the order kustomize applies them. kustomize.int-spec.ts checks that it renders
 * exactly what `kubectl kustomize` renders.
 */
export function render(dir: string): Manifest[] {
  const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization;
  let out: Manifest[] = (k.resources ?? []).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? render(path) : loadDocs(path, entry);
  });
  for (const g of k.configMapGenerator ?? []) {
    assert.ok(g.options?.disableNameSuffixHash, `${g.name}: only generators without a name hash are rendered here`);
    const data = Object.fromEntries(g.files.map((f) => [basename(f), readFileSync(join(dir, f), 'utf8')]));
    out.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: g.name, ...(g.options.labels ? { labels: { ...g.options.labels } } : {}) }, data });
  }
  for (const p of k.patches ?? []) {
    const [patch] = loadDocs(join(dir, p.path), p.path) as unknown as Json[];
    const matches = (m: Manifest): boolean =>
      p.target ? (!p.target.kind || m.kind === p.target.kind) && (!p.target.name || m.metadata.name === p.target.name) : m.kind === patch!.kind && m.metadata.name === (patch!.metadata as { name: string }).name;
    assert.ok(out.some(matches), `${p.path}: patches nothing`);
    if (patch!.$patch === 'delete') out = out.filter((m) => !matches(m));
    else out = out.map((m) => (matches(m) ? (merge(m, { ...patch!, metadata: { ...(patch!.metadata as Json), name: m.metadata.name } }) as Manifest) : m));
  }
  if (k.namespace) out = out.map((m) => (CLUSTER_SCOPED.has(m.kind) ? m : { ...m, metadata: { ...m.metadata, namespace: k.namespace } }));
  for (const { pairs, includeSelectors, includeTemplates } of k.labels ?? []) {
    assert.ok(!includeSelectors, 'labels never go into selectors (immutable on Deployments)');
    out = out.map((m) => {
      const labelled = { ...m, metadata: { ...m.metadata, labels: { ...m.metadata.labels, ...pairs } } };
      if (!includeTemplates || !WITH_TEMPLATE.has(m.kind)) return labelled;
      return merge(labelled, { spec: { template: { metadata: { labels: { ...(m as unknown as { spec: { template: { metadata: { labels: Json } } } }).spec.template.metadata.labels, ...pairs } } } } }) as Manifest;
    });
  }
  for (const image of k.images ?? []) {
    out = out.map((m) => {
      if (!WITH_TEMPLATE.has(m.kind)) return m;
      const pod = (m as unknown as { spec: { template: { spec: { containers: Array<{ image: string }> } } } }).spec.template.spec;
      const containers = pod.containers.map((c) => {
        const [name, tag] = c.image.split(':');
        if (name !== image.name) return c;
        return { ...c, image: `${image.newName ?? name}:${image.newTag ?? tag ?? 'latest'}` };
      });
      return merge(m, { spec: { template: { spec: { containers } } } }) as Manifest;
    });
  }
  for (const r of k.replicas ?? []) {
    assert.ok(out.some((m) => m.kind === 'Deployment' && m.metadata.name === r.name), `replicas: no Deployment ${r.name}`);
    out = out.map((m) => (m.kind === 'Deployment' && m.metadata.name === r.name ? (merge(m, { spec: { replicas: r.count } }) as Manifest) : m));
  }
  return out;
}
