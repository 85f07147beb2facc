import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { appOfCommand, envNamesByApp } from './app-env.js';
import { REPO_ROOT } from './repo-root.js';

/** Each kind we ship, validated against the Kubernetes OpenAPI schema that kubernetes-models compiles in. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': Service,
};

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  [k: string]: unknown;
}

const base = join(REPO_ROOT, 'deploy/k8s');

/** Kustomize rendering for plain kustomizations: every document of every listed resource, overlays recursively. */
function render(dir: string): Manifest[] {
  const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
  return k.resources.flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return render(path);
    return parseAllDocuments(readFileSync(path, 'utf8')).map((doc) => {
      assert.equal(doc.errors.length, 0, `${entry}: ${doc.errors.map((e) => e.message).join('; ')}`);
      return doc.toJS() as Manifest;
    });
  });
}

const kustomization = parse(readFileSync(join(base, 'kustomization.yaml'), 'utf8')) as { namespace: string };
const manifests = render(base);
const example = render(join(base, 'example'));
const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
const deployments = byKind('Deployment') as unknown as IDeployment[];
/** JetStreamTransport's default drain timeout (`drainTimeoutMs`), seconds. */
const DRAIN_TIMEOUT_SECONDS = 25;

describe('deploy/k8s (Kustomize base)', () => {
  it('validates every manifest (base and example overlay) against the Kubernetes schemas', () => {
    assert.ok(manifests.length >= 10);
    for (const m of [...manifests, ...example]) {
      const Model = MODELS[`${m.apiVersion}/${m.kind}`];
      assert.ok(Model, `no schema for ${m.apiVersion} ${m.kind}`);
      assert.doesNotThrow(() => new Model(m as never).validate(), `${m.kind} ${m.metadata?.name}`);
    }
  });

  it('rejects an invalid manifest (the validator is really on)', () => {
    const broken = structuredClone(deployments[0]!) as unknown as { spec: { template: { spec: { containers: Array<Record<string, unknown>> } } } };
    delete broken.spec.template.spec.containers[0]!.name;
    assert.throws(() => new Deployment(broken as never).validate(), /name/);
  });

  it('runs the apps and the console from one image with probes, resources, graceful termination and a PDB', () => {
    assert.deepEqual(deployments.map((d) => d.metadata?.name).sort(), ['console', 'directory-source', 'notifier', 'password-sync', 'scheduler']);
    const images = new Set<string>();
    for (const d of deployments) {
      const name = d.metadata!.name!;
      const pod = d.spec!.template.spec!;
      const c = pod.containers[0]!;
      images.add(c.image!);
      assert.equal(appOfCommand(c.args), name);
      if (name === 'directory-source') {
        // One poller: a second would repeat the polls (same ids, so harmless, but wasted); Recreate so a rollout never runs two.
        assert.equal(d.spec!.replicas, 1, `${name}: replicas`);
        assert.equal(d.spec!.strategy?.type, 'Recreate', `${name}: strategy`);
      } else {
        assert.ok((d.spec!.replicas ?? 1) >= 2, `${name}: replicas`);
      }
      assert.equal(c.livenessProbe?.httpGet?.path, '/health/live');
      assert.equal(c.readinessProbe?.httpGet?.path, '/health/ready');
      const port = c.ports?.find((p) => p.name === 'health')?.containerPort;
      assert.equal(String(port), c.env?.find((e) => e.name === 'HEALTH_PORT')?.value);
      assert.ok(c.resources?.requests?.cpu && c.resources.requests.memory && c.resources.limits?.memory, `${name}: resources`);
      assert.ok(c.lifecycle?.preStop?.exec?.command?.length, `${name}: preStop`);
      const preStop = Number(c.lifecycle!.preStop!.exec!.command!.at(-1));
      assert.ok(pod.terminationGracePeriodSeconds! > DRAIN_TIMEOUT_SECONDS + preStop, `${name}: grace period`);
      assert.equal(pod.securityContext?.runAsNonRoot, true);
      const pdb = byKind('PodDisruptionBudget').find((p) => p.metadata.name === name) as unknown as { spec: { selector: { matchLabels: Record<string, string> } } };
      assert.ok(pdb, `${name}: PodDisruptionBudget`);
      assert.deepEqual(pdb.spec.selector.matchLabels, d.spec!.selector.matchLabels);
      assert.deepEqual(d.spec!.selector.matchLabels, d.spec!.template.metadata!.labels);
    }
    assert.equal(images.size, 1);
  });

  it('holds no Secret: applying the base never overwrites real secrets; the example overlay adds the placeholder one', () => {
    assert.deepEqual(byKind('Secret'), []);
    assert.deepEqual(
      example.filter((m) => m.kind === 'Secret').map((m) => m.metadata.name),
      ['idm-secrets'],
    );
    assert.equal(example.length, manifests.length + 1);
    const overlay = parse(readFileSync(join(base, 'example', 'kustomization.yaml'), 'utf8')) as { namespace: string };
    assert.equal(overlay.namespace, kustomization.namespace);
  });

  it('each app connects with its own NATS identity (nkey seed Secret idm-nats-<app>, its inbox prefix), never a shared password', () => {
    for (const d of deployments) {
      const name = d.metadata!.name!;
      const pod = d.spec!.template.spec!;
      const c = pod.containers[0]!;
      const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
      assert.equal(env.NATS_USER, undefined, `${name}: no shared NATS user`);
      assert.equal(env.NATS_INBOX_PREFIX, `_INBOX.${name}`);
      const volume = pod.volumes?.find((v) => v.secret?.secretName === `idm-nats-${name}`);
      assert.ok(volume, `${name}: mounts the idm-nats-${name} Secret`);
      const mount = c.volumeMounts?.find((m) => m.name === volume.name);
      assert.ok(mount?.readOnly, `${name}: read-only mount`);
      assert.equal(env.NATS_NKEY_SEED_FILE, `${mount.mountPath}/${volume.secret!.items![0]!.path}`);
      assert.equal(volume.secret!.items![0]!.key, 'seed');
    }
  });

  it('runs idm setup as a Job with the admin identity, from the apps\' image', () => {
    const [job] = byKind('Job') as unknown as Array<{ spec: { template: { spec: { restartPolicy: string; containers: Array<{ image: string; args: string[]; env: Array<{ name: string; value: string }> }>; volumes: Array<{ secret?: { secretName: string } }> } } } }>;
    assert.ok(job);
    const pod = job.spec.template.spec;
    const c = pod.containers[0]!;
    assert.deepEqual(c.args, ['dist/apps/cli/main.js', 'setup']);
    assert.equal(c.image, deployments[0]!.spec!.template.spec!.containers[0]!.image);
    assert.equal(c.env.find((e) => e.name === 'NATS_INBOX_PREFIX')?.value, '_INBOX.admin');
    assert.ok(pod.volumes.some((v) => v.secret?.secretName === 'idm-nats-admin'));
    assert.equal(pod.restartPolicy, 'OnFailure');
  });

  it('takes secrets from the Secret and sets only variables the apps read', async () => {
    const known = await envNamesByApp();
    const config = byKind('ConfigMap')[0] as unknown as { metadata: { name: string }; data: Record<string, string> };
    const secret = example.find((m) => m.kind === 'Secret') as unknown as { metadata: { name: string }; stringData: Record<string, string> };
    const readByAny = (k: string) => Object.values(known).some((s) => s.has(k));
    for (const key of Object.keys(config.data)) assert.ok(readByAny(key), `ConfigMap key ${key} is read by no app`);
    for (const key of Object.keys(secret.stringData)) assert.ok(readByAny(key), `Secret key ${key} is read by no app`);
    for (const key of ['SMTP_URL', 'PASSWORD_CACHE_KEY', 'DATABASE_URL']) assert.ok(key in secret.stringData, `Secret has ${key}`);
    for (const key of Object.keys(config.data)) assert.doesNotMatch(key, /PASSWORD$|_KEY$|SMTP_URL|DATABASE_URL/, `${key} belongs in the Secret`);
    for (const d of deployments) {
      const name = d.metadata!.name! as keyof typeof known;
      const c = d.spec!.template.spec!.containers[0]!;
      assert.equal(c.envFrom?.[0]?.configMapRef?.name, config.metadata.name);
      for (const e of c.env ?? []) {
        assert.ok(known[name].has(e.name), `${name}: ${e.name} is not read by the app`);
        if (e.valueFrom?.secretKeyRef) {
          assert.equal(e.valueFrom.secretKeyRef.name, secret.metadata.name);
          assert.ok(e.valueFrom.secretKeyRef.key in secret.stringData, `${name}: ${e.valueFrom.secretKeyRef.key} not in the Secret`);
        }
      }
    }
    const secretOf = (app: string) => (deployments.find((d) => d.metadata!.name === app)!.spec!.template.spec!.containers[0]!.env ?? []).filter((e) => e.valueFrom?.secretKeyRef).map((e) => e.name);
    assert.ok(secretOf('notifier').includes('SMTP_URL'));
    assert.ok(secretOf('password-sync').includes('PASSWORD_CACHE_KEY'));
    assert.ok(secretOf('directory-source').includes('SOURCE_BIND_PASSWORD'));
    assert.ok(secretOf('console').includes('CONSOLE_TOKEN'));
  });

  it('exposes the console only inside the cluster (ClusterIP, no Ingress), listening beyond loopback with a token and actions off', () => {
    const service = byKind('Service').find((s) => s.metadata.name === 'console') as unknown as { spec: { type: string } };
    assert.equal(service.spec.type, 'ClusterIP');
    assert.deepEqual(byKind('Ingress'), []);
    const c = deployments.find((d) => d.metadata!.name === 'console')!.spec!.template.spec!.containers[0]!;
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom?.secretKeyRef?.key]));
    assert.equal(env.CONSOLE_HOST, '0.0.0.0');
    assert.equal(env.CONSOLE_TOKEN, 'CONSOLE_TOKEN');
    assert.equal(env.CONSOLE_ALLOW_ACTIONS, 'false');
  });
});

describe('deploy/nats-values.yaml (official NATS chart)', () => {
  it('asks for 3 clustered servers, JetStream file storage and sync_interval always', () => {
    const values = parse(readFileSync(join(REPO_ROOT, 'deploy/nats-values.yaml'), 'utf8')) as {
      container: { image: { tag: string } };
      config: { cluster: { enabled: boolean; replicas: number }; jetstream: { enabled: boolean; fileStore: { enabled: boolean; pvc: { enabled: boolean } }; merge: { sync_interval: string } } };
    };
    assert.equal(values.config.cluster.enabled, true);
    assert.equal(values.config.cluster.replicas, 3);
    assert.equal(values.config.jetstream.enabled, true);
    assert.equal(values.config.jetstream.fileStore.enabled, true);
    assert.equal(values.config.jetstream.fileStore.pvc.enabled, true);
    assert.equal(values.config.jetstream.merge.sync_interval, 'always');
    assert.match(values.container.image.tag, /^2\.(1[0-9]|[2-9]\d)\./);
  });

  it('turns authentication on with the idm nats-config file, and fails closed without it', () => {
    const values = parse(readFileSync(join(REPO_ROOT, 'deploy/nats-values.yaml'), 'utf8')) as { config: { merge: Record<string, string> }; configMap: { merge: { data: Record<string, string> } } };
    const included = values.config.merge['00$include'];
    assert.equal(included, 'idm-auth.conf');
    const placeholder = values.configMap.merge.data[included];
    assert.ok(placeholder, 'the ConfigMap holds the included file');
    // Not a public nkey (U + 55 base32 characters): nats-server refuses to start with it.
    const nkey = /nkey:\s*"([^"]+)"/.exec(placeholder)?.[1] ?? '';
    assert.doesNotMatch(nkey, /^U[A-Z2-7]{55}$/);
    assert.doesNotMatch(placeholder, /no_auth_user|authorization/);
  });
});
