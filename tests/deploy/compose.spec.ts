import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { appOfCommand, envNamesByApp } from './app-env.js';
import { REPO_ROOT } from './repo-root.js';

interface ComposeService {
  image?: string;
  restart?: string;
  build?: { context: string; dockerfile?: string; target?: string };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  ports?: string[];
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as ComposeFile;
const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const stages = [...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1]!);
const appServices = ['scheduler', 'notifier', 'password-sync', 'directory-source', 'console'] as const;

describe('Dockerfile', () => {
  it('is multi-stage, builds with npm ci, prunes dev dependencies and runs as non-root', () => {
    assert.deepEqual(stages, ['deps', 'build', 'runtime']);
    for (const m of dockerfile.matchAll(/--from=(\S+)/g)) assert.ok(stages.includes(m[1]!), `COPY --from=${m[1]} names no stage`);
    assert.match(dockerfile, /npm ci/);
    assert.match(dockerfile, /npm prune --omit=dev/);
    assert.match(dockerfile, /^USER node$/m);
    assert.match(dockerfile, /^ARG NODE_IMAGE=node:(22|24)-(slim|alpine)$/m, 'runs on a current Node LTS');
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(\S+)/gm)) assert.ok(existsSync(join(REPO_ROOT, m[1]!)), `COPY source ${m[1]} missing`);
  });

  it('has a HEALTHCHECK on a shipped script, ships the idm CLI, and ships no specs or test harnesses', () => {
    const health = /^HEALTHCHECK .*CMD \["node", "([^"]+)"\]$/m.exec(dockerfile);
    assert.ok(health, 'HEALTHCHECK with an exec-form node command');
    assert.ok(existsSync(join(REPO_ROOT, health[1]!)), `${health[1]} exists`);
    assert.match(dockerfile, new RegExp(`^COPY ${health[1]!.replace(/[.]/g, '\\.')} `, 'm'), 'the health script is copied into the runtime stage');
    assert.match(dockerfile, /tsc -b [^\n]*apps\/cli/, 'the CLI is compiled');
    for (const app of appServices) assert.match(dockerfile, new RegExp(`tsc -b [^\\n]*apps/${app}[ \\\\]`), `${app} is compiled into the image`);
    assert.match(dockerfile, /\/usr\/local\/bin\/idm/, '`idm` is on the PATH');
    assert.match(dockerfile, /find libs dist -name '\*spec\.\*' -delete/, 'every spec tier is removed');
    assert.match(dockerfile, /rm -rf [^\n]*libs\/testing[^\n]*node_modules\/@idm\/testing/, '@idm/testing is not shipped');
  });
});

describe('docker-compose.yml', () => {
  it('has NATS 2.10+ with the mounted nats.conf (JetStream, sync_interval always), Postgres and Mailpit', () => {
    const nats = compose.services.nats!;
    const tag = /^nats:(\d+)\.(\d+)/.exec(nats.image ?? '');
    assert.ok(tag && (Number(tag[1]) > 2 || Number(tag[2]) >= 10), `nats image ${nats.image}`);
    const mount = nats.volumes?.find((v) => v.endsWith(':/etc/nats/nats.conf:ro'));
    assert.ok(mount);
    const conf = readFileSync(join(REPO_ROOT, mount.split(':')[0]!), 'utf8');
    assert.match(conf, /jetstream\s*\{[^}]*sync_interval:\s*always/s);
    assert.match(compose.services.postgres?.image ?? '', /^postgres:/);
    assert.match(compose.services.mailpit?.image ?? '', /^axllent\/mailpit:/);
  });

  it('builds the three apps from one image, the app chosen by command', () => {
    const images = new Set(appServices.map((s) => compose.services[s]!.image));
    assert.equal(images.size, 1);
    for (const name of appServices) {
      const s = compose.services[name]!;
      assert.equal(s.build?.dockerfile, 'Dockerfile');
      assert.ok(existsSync(join(REPO_ROOT, s.build.context, s.build.dockerfile)));
      assert.ok(stages.includes(s.build.target ?? ''), `${name}: target ${s.build.target} is not a Dockerfile stage`);
      assert.equal(appOfCommand(s.command), name);
      assert.ok(existsSync(join(REPO_ROOT, 'dist/apps', name, 'main.js')), `${name}: the command's file is not built`);
    }
  });

  it('has a healthcheck on every long-running service and depends only on services that exist, healthy or (one-shot) completed', () => {
    const oneShot = (name: string) => compose.services[name]?.restart === 'no';
    for (const [name, s] of Object.entries(compose.services)) {
      if (!oneShot(name)) assert.ok(s.healthcheck?.test?.length, `${name} has no healthcheck`);
      for (const [dep, cond] of Object.entries(s.depends_on ?? {})) {
        assert.ok(compose.services[dep], `${name} depends on missing ${dep}`);
        assert.equal(cond.condition, oneShot(dep) ? 'service_completed_successfully' : 'service_healthy', `${name} → ${dep}`);
      }
    }
    for (const name of appServices) {
      const port = compose.services[name]!.environment?.HEALTH_PORT;
      assert.ok(port, `${name}: HEALTH_PORT`);
      assert.ok(compose.services[name]!.healthcheck!.test.join(' ').includes(`:${port}/health/ready`));
    }
  });

  it('sets only variables the apps read, and everything each app requires', async () => {
    const known = await envNamesByApp();
    for (const name of appServices) {
      const env = compose.services[name]!.environment ?? {};
      for (const key of Object.keys(env)) assert.ok(known[name].has(key), `${name}: ${key} is not read by the app`);
    }
    assert.ok(compose.services.notifier!.environment?.SMTP_URL?.startsWith('smtp://mailpit:'));
    assert.ok(compose.services.notifier!.environment?.MAIL_FROM);
    assert.ok(compose.services['password-sync']!.environment?.PASSWORD_TARGET);
    for (const key of ['SOURCE_URL', 'SOURCE_BIND_DN', 'SOURCE_BIND_PASSWORD', 'SOURCE_BASE_DN']) assert.ok(compose.services['directory-source']!.environment?.[key], `directory-source: ${key}`);
  });

  it('runs NATS with authentication: generated permissions, streams set up by the admin, each app on its own role', () => {
    const config = compose.services['nats-config']!;
    assert.deepEqual(config.command?.slice(0, 2), ['dist/apps/cli/main.js', 'nats-config']);
    const out = config.command![config.command!.indexOf('--out') + 1]!;
    const volume = config.volumes!.find((v) => v.endsWith(`:${out}`))!.split(':')[0]!;
    // nats-server reads the generated idm-auth.conf from that volume through its include.
    const natsMount = compose.services.nats!.volumes!.find((v) => v.startsWith(`${volume}:`))!;
    const conf = readFileSync(join(REPO_ROOT, 'deploy/nats/nats.conf'), 'utf8');
    const include = /^include\s+"([^"]+)"/m.exec(conf)?.[1];
    assert.ok(include, 'nats.conf includes the generated permissions');
    assert.equal(join('/etc/nats', include), join(natsMount.split(':')[1]!, 'idm-auth.conf'));
    assert.doesNotMatch(conf, /^\s*(authorization|no_auth_user)\b/m, 'no other way in');
    const setup = compose.services.setup!;
    assert.deepEqual(setup.command, ['dist/apps/cli/main.js', 'setup']);
    assert.equal(setup.environment?.NATS_NKEY_SEED_FILE, `${out}/admin.nk`);
    for (const name of appServices) {
      const env = compose.services[name]!.environment!;
      assert.equal(env.NATS_NKEY_SEED_FILE, `${out}/${name}.nk`, name);
      assert.equal(env.NATS_INBOX_PREFIX, `_INBOX.${name}`, name);
      assert.ok(compose.services[name]!.volumes?.includes(`${volume}:${out}:ro`), `${name} mounts the identities read-only`);
      assert.equal(compose.services[name]!.depends_on?.setup?.condition, 'service_completed_successfully', `${name} starts after idm setup`);
    }
  });

  it('declares every named volume it mounts', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0]!;
        if (source.startsWith('.') || source.startsWith('/')) assert.ok(existsSync(join(REPO_ROOT, source)), `${name}: bind source ${source} missing`);
        else assert.ok(compose.volumes && source in compose.volumes, `${name}: volume ${source} not declared`);
      }
    }
  });
});
