import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { appOfCommand, envNamesByApp } from './app-env.js';
import { render, type Manifest } from './kustomize-render.js';
import { metricNames, shippedAlerts, shippedDashboard, shippedExpressions } from './promql.js';
import { REPO_ROOT } from './repo-root.js';

/** Each kind we ship, validated against the Kubernetes OpenAPI schema that kubernetes-models compiles in. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'v1/Secret': Secret,
  'v1/Service': Service,
};

const base = join(REPO_ROOT, 'deploy/k8s/base');

const kustomization = parse(readFileSync(join(base, 'kustomization.yaml'), 'utf8')) as { namespace: string };
const manifests = render(base);
const example = render(join(REPO_ROOT, 'deploy/k8s/example'));
const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
const deployments = byKind('Deployment') as unknown as IDeployment[];
/** JetStreamTransport's default drain timeout (`drainTimeoutMs`), seconds. */
const DRAIN_TIMEOUT_SECONDS = 25;

describe('deploy/k8s/base (Kustomize base)', () => {
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
      for (const [k, v] of Object.entries(d.spec!.selector.matchLabels!)) assert.equal(d.spec!.template.metadata!.labels![k], v, `${name}: the template carries its selector`);
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
    const overlay = parse(readFileSync(join(REPO_ROOT, 'deploy/k8s/example', 'kustomization.yaml'), 'utf8')) as { namespace: string };
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

const overlays = { dev: render(join(REPO_ROOT, 'deploy/k8s/overlays/dev')), prod: render(join(REPO_ROOT, 'deploy/k8s/overlays/prod')) };
const jobsDir = join(REPO_ROOT, 'deploy/k8s/jobs');
const replayJobs = readdirSync(jobsDir)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(join(jobsDir, f), 'utf8')).map((d) => d.toJS() as Manifest));
/** The Prometheus Operator's CRDs: no compiled schema, their shape is checked below. */
const CRDS = new Set(['monitoring.coreos.com/v1/ServiceMonitor', 'monitoring.coreos.com/v1/PrometheusRule']);
const RECOMMENDED = ['name', 'instance', 'component', 'part-of', 'version', 'managed-by'].map((l) => `app.kubernetes.io/${l}`);
type Workload = Manifest & { spec: { replicas?: number; template: { metadata: { labels: Record<string, string> }; spec: { containers: Array<{ ports?: Array<{ name: string }>; env?: Array<{ name: string; value?: string }>; args: string[] }>; volumes: Array<{ secret?: { secretName: string } }> } } } };
const of = (ms: Manifest[], kind: string) => ms.filter((m) => m.kind === kind) as Workload[];
const replicasOf = (ms: Manifest[]) => Object.fromEntries(of(ms, 'Deployment').map((d) => [d.metadata.name, d.spec.replicas ?? 1]));

describe('deploy/k8s/overlays (dev, prod) and deploy/k8s/jobs', () => {
  it('validates every manifest of both overlays and the replay Jobs against the Kubernetes schemas (the CRDs by shape below)', () => {
    for (const m of [...overlays.dev, ...overlays.prod, ...replayJobs]) {
      if (CRDS.has(`${m.apiVersion}/${m.kind}`)) continue;
      const Model = MODELS[`${m.apiVersion}/${m.kind}`];
      assert.ok(Model, `no schema for ${m.apiVersion} ${m.kind}`);
      assert.doesNotThrow(() => new Model(m as never).validate(), `${m.kind} ${m.metadata?.name}`);
    }
  });

  it('puts the six recommended app.kubernetes.io labels on every object and pod template, with the overlay\'s instance', () => {
    for (const [overlay, ms] of Object.entries({ base: manifests, ...overlays, jobs: replayJobs })) {
      for (const m of ms) {
        const where = `${overlay}: ${m.kind} ${m.metadata.name}`;
        for (const l of RECOMMENDED) assert.ok(m.metadata.labels?.[l], `${where}: ${l}`);
        assert.equal(m.metadata.labels!['app.kubernetes.io/part-of'], 'idm-events', where);
        const template = (m as Workload).spec?.template?.metadata?.labels;
        if (m.kind === 'Deployment' || m.kind === 'Job') for (const l of RECOMMENDED) assert.ok(template?.[l], `${where}: pod template ${l}`);
        if (overlay === 'dev' || overlay === 'prod') assert.equal(m.metadata.labels!['app.kubernetes.io/instance'], `idm-${overlay}`, where);
      }
    }
  });

  it('dev: one replica of each app, no PodDisruptionBudget (it would block drains), a one-replica stream on one NATS server without persistence', () => {
    assert.deepEqual(replicasOf(overlays.dev), { scheduler: 1, notifier: 1, 'password-sync': 1, 'directory-source': 1, console: 1 });
    assert.deepEqual(of(overlays.dev, 'PodDisruptionBudget'), []);
    assert.equal((of(overlays.dev, 'ConfigMap')[0] as unknown as { data: Record<string, string> }).data.IDM_STREAM_REPLICAS, '1');
    assert.deepEqual(of(overlays.dev, 'Secret'), []);
    const nats = parse(readFileSync(join(REPO_ROOT, 'deploy/k8s/overlays/dev/nats-values.yaml'), 'utf8')) as { config: { cluster: { enabled: boolean }; jetstream: { enabled: boolean; fileStore: { pvc: { enabled: boolean } } }; merge: Record<string, string> } };
    assert.equal(nats.config.cluster.enabled, false);
    assert.equal(nats.config.jetstream.enabled, true);
    assert.equal(nats.config.jetstream.fileStore.pvc.enabled, false);
    assert.equal(nats.config.merge['00$include'], 'idm-auth.conf', 'the same authentication as production');
  });

  it('prod: two replicas where the app allows it (directory-source one), a PDB for each, the monitoring, no Secret, a stream replicated over the three NATS servers', () => {
    assert.deepEqual(replicasOf(overlays.prod), { scheduler: 2, notifier: 2, 'password-sync': 2, 'directory-source': 1, console: 2 });
    assert.deepEqual(of(overlays.prod, 'PodDisruptionBudget').map((p) => p.metadata.name).sort(), Object.keys(replicasOf(overlays.prod)).sort());
    assert.deepEqual(of(overlays.prod, 'Secret'), []);
    for (const kind of ['ServiceMonitor', 'PrometheusRule']) assert.equal(of(overlays.prod, kind).length, 1, kind);
    assert.ok(of(overlays.prod, 'ConfigMap').some((c) => c.metadata.name === 'idm-events-dashboard'));
    assert.ok(overlays.prod.every((m) => m.kind === 'Namespace' || m.metadata.namespace === 'idm'));
    const config = of(overlays.prod, 'ConfigMap').find((c) => c.metadata.name === 'idm-config') as unknown as { data: Record<string, string> };
    const nats = parse(readFileSync(join(REPO_ROOT, 'deploy/nats-values.yaml'), 'utf8')) as { config: { cluster: { replicas: number } } };
    assert.equal(Number(config.data.IDM_STREAM_REPLICAS), nats.config.cluster.replicas);
  });

  it('NetworkPolicy: every idm pod is selected; out only DNS, NATS, Postgres, SMTP and LDAP; in only the health/metrics port', () => {
    for (const ms of [manifests, overlays.dev, overlays.prod]) {
      const [policy] = of(ms, 'NetworkPolicy') as unknown as Array<{ spec: { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[]; ingress: Array<{ from?: unknown; ports: Array<{ port: string | number }> }>; egress: Array<{ ports: Array<{ port: number; protocol: string }> }> } }>;
      assert.ok(policy);
      assert.deepEqual([...policy.spec.policyTypes].sort(), ['Egress', 'Ingress']);
      for (const w of [...of(ms, 'Deployment'), ...of(ms, 'Job')]) {
        for (const [k, v] of Object.entries(policy.spec.podSelector.matchLabels)) assert.equal(w.spec.template.metadata.labels[k], v, `${w.metadata.name} is covered by the policy`);
      }
      assert.deepEqual(policy.spec.ingress.flatMap((r) => r.ports.map((p) => p.port)), ['health']);
      for (const d of of(ms, 'Deployment')) assert.ok(d.spec.template.spec.containers[0]!.ports?.some((p) => p.name === 'health'), `${d.metadata.name} names its port health`);
      const out = new Set(policy.spec.egress.flatMap((r) => r.ports.map((p) => `${p.protocol}/${p.port}`)));
      assert.deepEqual([...out].sort(), ['TCP/25', 'TCP/389', 'TCP/4222', 'TCP/465', 'TCP/53', 'TCP/5432', 'TCP/587', 'TCP/636', 'UDP/53'].sort());
      const config = of(ms, 'ConfigMap').find((c) => c.metadata.name === 'idm-config') as unknown as { data: Record<string, string> };
      assert.ok(out.has(`TCP/${new URL(config.data.NATS_URL!).port}`), 'the policy lets the apps reach NATS_URL');
      for (const key of ['PASSWORD_TARGET', 'SOURCE_URL']) assert.ok(out.has(`TCP/${new URL(config.data[key]!).port || 389}`), `the policy lets the apps reach ${key}`);
    }
  });

  it('replay Jobs: one per app with tables, the admin identity, the app\'s database, the image of the apps', async () => {
    const known = await envNamesByApp();
    const image = of(overlays.prod, 'Deployment')[0]!.spec.template.spec.containers[0]!;
    assert.deepEqual(replayJobs.map((j) => j.metadata.name).sort(), ['idm-replay-notifier', 'idm-replay-password-sync']);
    for (const job of replayJobs as Workload[]) {
      const c = job.spec.template.spec.containers[0]!;
      const app = c.args[2] as 'notifier' | 'password-sync';
      assert.deepEqual(c.args, ['dist/apps/cli/main.js', 'replay', app]);
      assert.equal(job.metadata.name, `idm-replay-${app}`);
      assert.equal(job.metadata.namespace, 'idm');
      assert.equal((c as unknown as { image: string }).image, (image as unknown as { image: string }).image);
      assert.ok(job.spec.template.spec.volumes.some((v) => v.secret?.secretName === 'idm-nats-admin'));
      for (const e of c.env ?? []) assert.ok(known[app].has(e.name), `${app} replay: ${e.name} is not read`);
      assert.ok(c.env?.some((e) => e.name === 'DATABASE_URL'));
    }
  });
});

describe('deploy/monitoring (ServiceMonitor, PrometheusRule, Grafana dashboard)', () => {
  const monitoring = render(join(REPO_ROOT, 'deploy/monitoring'));
  const services = of(manifests, 'Service') as unknown as Array<Manifest & { spec: { ports: Array<{ name: string }> } }>;

  it('ServiceMonitor: scrapes /metrics on the health port of every app Service', () => {
    const [sm] = of(monitoring, 'ServiceMonitor') as unknown as Array<Manifest & { spec: { jobLabel: string; selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string; path: string }> } }>;
    assert.ok(sm);
    assert.equal(sm.apiVersion, 'monitoring.coreos.com/v1');
    assert.ok(sm.spec.endpoints.length > 0);
    assert.deepEqual(sm.spec.endpoints.map((e) => [e.port, e.path]), [['health', '/metrics']]);
    // The console serves pages and its health, no /metrics: it must not be selected.
    const selected = services.filter((s) => Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v));
    assert.deepEqual(selected.map((s) => s.metadata.name).sort(), ['directory-source', 'notifier', 'password-sync', 'scheduler']);
    assert.deepEqual(services.map((s) => s.metadata.name).sort(), ['console', 'directory-source', 'notifier', 'password-sync', 'scheduler']);
    for (const s of selected) {
      for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) assert.equal(s.metadata.labels?.[k], v, `${s.metadata.name} is selected (${k})`);
      assert.ok(s.spec.ports.some((p) => p.name === 'health'), `${s.metadata.name}: port health`);
    }
    // job="idm-events" in the alerts and the dashboard comes from jobLabel.
    assert.equal(selected[0]!.metadata.labels![sm.spec.jobLabel], 'idm-events');
    assert.ok(shippedExpressions().filter((e) => /\bup\{/.test(e.expr)).every((e) => e.expr.includes('job="idm-events"')));
  });

  it('PrometheusRule: well-formed alerts covering every alert docs/operations.md describes', () => {
    const [rule] = of(monitoring, 'PrometheusRule') as unknown as Array<Manifest & { spec: { groups: Array<{ name: string; rules: unknown[] }> } }>;
    assert.ok(rule);
    assert.equal(rule.apiVersion, 'monitoring.coreos.com/v1');
    assert.ok(rule.spec.groups.every((g) => typeof g.name === 'string' && g.rules.length > 0));
    const alerts = shippedAlerts();
    for (const a of alerts) {
      assert.match(a.alert, /^Idm[A-Z][A-Za-z]+$/);
      assert.ok(a.expr.trim().length > 0, a.alert);
      assert.ok(a.for === undefined || /^\d+[smh]$/.test(a.for), `${a.alert}: for`);
      assert.ok(['warning', 'critical'].includes(a.labels?.severity ?? ''), `${a.alert}: severity`);
      assert.ok(a.annotations?.summary && a.annotations.description, `${a.alert}: summary and description`);
    }
    assert.equal(new Set(alerts.map((a) => a.alert)).size, alerts.length, 'alert names are unique');
    const uses = (metric: string) => alerts.some((a) => metricNames(a.expr).includes(metric));
    for (const metric of ['idm_consumer_pending_messages', 'idm_dead_letter_messages', 'idm_pending_email_oldest_age_seconds', 'idm_cached_password_next_expiry_seconds', 'idm_ticks_missed_total', 'idm_ticks_fired_total', 'idm_password_target_unavailable_streak', 'up']) {
      assert.ok(uses(metric), `an alert on ${metric}`);
    }
    const ops = readFileSync(join(REPO_ROOT, 'docs/operations.md'), 'utf8');
    for (const a of alerts) assert.ok(ops.includes(a.alert), `docs/operations.md describes ${a.alert}`);
  });

  it('takes max/min, never sum, of the gauges every replica exports with the same value', () => {
    const shared = ['idm_dead_letter_messages', 'idm_pending_emails', 'idm_pending_email_oldest_age_seconds', 'idm_cached_passwords', 'idm_cached_password_next_expiry_seconds', 'idm_password_target_unavailable_streak', 'idm_consumer_pending_messages', 'idm_source_poll_failures_in_a_row', 'idm_source_snapshot_users'];
    for (const { where, expr } of shippedExpressions()) {
      for (const g of shared) {
        if (!metricNames(expr).includes(g)) continue;
        assert.match(expr, new RegExp(`\\b(max|min)\\b[^()]*(\\([^()]*\\))?\\s*\\(\\s*(\\w+\\()?${g}\\b`), `${where}: ${g} aggregated with max/min`);
        assert.doesNotMatch(expr, new RegExp(`\\bsum\\b[^()]*(\\([^()]*\\))?\\s*\\(\\s*(\\w+\\()?${g}\\b`), `${where}: ${g} summed over replicas`);
      }
    }
    const ops = readFileSync(join(REPO_ROOT, 'docs/operations.md'), 'utf8');
    assert.match(ops, /max, not sum/);
  });

  it('Grafana dashboard: a uid, a data-source variable, a query in every panel, the ConfigMap the sidecar loads', () => {
    const dash = shippedDashboard();
    assert.equal(dash.uid, 'idm-events');
    assert.ok(dash.templating.list.some((v) => v.type === 'datasource'));
    const panels = dash.panels.filter((p) => p.type !== 'row');
    assert.ok(panels.length >= 10);
    for (const p of panels) assert.ok(p.targets?.length && p.targets.every((t) => t.expr.trim().length > 0), p.title);
    const cm = of(monitoring, 'ConfigMap').find((c) => c.metadata.name === 'idm-events-dashboard') as unknown as { metadata: { labels: Record<string, string> }; data: Record<string, string> };
    assert.equal(cm.metadata.labels.grafana_dashboard, '1');
    assert.deepEqual(JSON.parse(cm.data['grafana-dashboard.json']!), dash);
    assert.doesNotThrow(() => new ConfigMap(cm as never).validate());
  });
});

describe('metricNames (PromQL)', () => {
  it('finds the selected metrics, not functions, keywords, label names, strings or ranges', () => {
    assert.deepEqual(
      metricNames('histogram_quantile(0.95, sum by (consumer, le) (rate(idm_handler_duration_seconds_bucket{namespace="$ns",x=~"a|b"}[5m]))) > 6 * 300 and on (pod) up == 0 unless absent(foo_total offset 5m)').sort(),
      ['foo_total', 'idm_handler_duration_seconds_bucket', 'up'],
    );
    assert.deepEqual(metricNames('max by (namespace) (idm_pending_emails) > bool 1e3'), ['idm_pending_emails']);
  });
});
