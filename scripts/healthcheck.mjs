#!/usr/bin/env node
// The container image's HEALTHCHECK: exit 0 when the app in this container answers /health/live.
// One app runs per container; it listens on HEALTH_PORT when that is set (compose and the
// Kubernetes manifests set it), otherwise on its own default (scheduler 9101, notifier 9102,
// password-sync 9103, directory-source 9104, console 9110), so without HEALTH_PORT every default is
// tried.
// HEALTH_PORT=off means the app serves no health endpoint: nothing to check.
const configured = process.env.HEALTH_PORT?.trim();
if (configured === 'off') process.exit(0);
const ports = configured ? [Number(configured)] : [9101, 9102, 9103, 9104, 9110];

async function live(port) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health/live`, { signal: AbortSignal.timeout(2_000) });
    return res.ok;
  } catch {
    return false;
  }
}

const answers = await Promise.all(ports.map(live));
process.exit(answers.includes(true) ? 0 : 1);
