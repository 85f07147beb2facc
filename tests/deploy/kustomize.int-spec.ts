import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { render, type Manifest } from './kustomize-render.js';
import { REPO_ROOT } from './repo-root.js';

/** The kustomizations we ship. */
const KUSTOMIZATIONS = ['deploy/k8s/base', 'deploy/k8s/example', 'deploy/k8s/overlays/dev', 'deploy/k8s/overlays/prod', 'deploy/monitoring'];

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const unavailable = kubectl.error ? `kubectl not installed (${kubectl.error.message}): the renderer of kubernetes.spec.ts is not cross-checked` : undefined;

const key = (m: Manifest): string => `${m.kind}/${m.metadata.namespace ?? ''}/${m.metadata.name}`;
const byKey = (ms: Manifest[]): Manifest[] => [...ms].sort((a, b) => key(a).localeCompare(key(b)));

describe('kubernetes.spec.ts renders what `kubectl kustomize` renders', () => {
  for (const dir of KUSTOMIZATIONS) {
    it(dir, { skip: unavailable }, () => {
      const run = spawnSync('kubectl', ['kustomize', join(REPO_ROOT, dir)], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
      assert.equal(run.status, 0, `kubectl kustomize ${dir}: ${run.stderr}`);
      const real = parseAllDocuments(run.stdout, { version: '1.1' }).map((d) => d.toJS() as Manifest);
      assert.deepEqual(byKey(render(join(REPO_ROOT, dir))), byKey(real));
    });
  }
});
