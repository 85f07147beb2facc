import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Parser, DiagnosticSeverity } from '@asyncapi/parser';
import { buildAsyncApiDocument, renderAsyncApiYaml } from './asyncapi.js';
import { COMMAND_CATALOGUE } from './command-catalogue.js';
import { CommandSubjects } from './commands.js';
import { COMMAND_PREFIX } from './subjects.js';
import { ALL_EVENT_TYPES, eventNameOf } from './event-types.js';

// This file runs from libs/contracts/{src,dist}/, three levels below the repository root.
const checkedIn = new URL('../../../docs/asyncapi.yaml', import.meta.url);

type Json = Record<string, unknown>;
const at = (value: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, key) => (v as Json | undefined)?.[key], value);

describe('AsyncAPI document', () => {
  it('docs/asyncapi.yaml is up to date (regenerate with `npm run asyncapi`)', () => {
    assert.equal(readFileSync(checkedIn, 'utf8'), renderAsyncApiYaml());
  });

  it('validates with @asyncapi/parser without errors', async () => {
    const diagnostics = await new Parser().validate(renderAsyncApiYaml());
    const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
    assert.deepEqual(
      errors.map((d) => `${d.path.join('/')}: ${d.message}`),
      [],
    );
  });

  it('parses into one channel and one receive operation per event type', async () => {
    const { document } = await new Parser().parse(renderAsyncApiYaml());
    assert.ok(document);
    for (const type of ALL_EVENT_TYPES) {
      const name = eventNameOf(type);
      const channel = document.channels().get(name);
      assert.equal(channel?.address(), `${type}.{key}`);
      assert.ok(channel?.parameters().get('key'), `${name} has a key parameter`);
      assert.equal(document.operations().get(`receive${name}`)?.action(), 'receive');
    }
  });

  it('carries the full CloudEvents envelope with the typed data', () => {
    const doc = buildAsyncApiDocument();
    const payload = at(doc, 'components', 'messages', 'EmailSent', 'payload') as Json;
    assert.deepEqual([...(payload['required'] as string[])].sort(), [
      'data',
      'datacontenttype',
      'id',
      'source',
      'specversion',
      'subject',
      'time',
      'type',
    ]);
    // dataversion is optional on intake (absent means 1), and the document says so.
    assert.equal(at(payload, 'properties', 'dataversion', 'const'), '1');
    assert.match(String(at(payload, 'properties', 'dataversion', 'description')), /absent means version 1/);
    assert.equal(at(payload, 'properties', 'type', 'const'), 'idm.email.sent');
    assert.equal(at(payload, 'properties', 'data', '$ref'), '#/components/schemas/EmailSentData');
    assert.ok(at(payload, 'properties', 'correlationid'));
    assert.ok(at(payload, 'properties', 'causationid'));
    assert.equal(at(doc, 'components', 'schemas', 'UserAddedData', 'properties', 'email', 'format'), 'email');
  });

  it('points every event message at its standalone JSON Schema under docs/schemas/', () => {
    const doc = buildAsyncApiDocument();
    for (const type of ALL_EVENT_TYPES)
      assert.equal(at(doc, 'components', 'messages', eventNameOf(type), 'x-json-schema'), `schemas/${type}.json`);
  });

  it('describes the password change as a send with a reply, its password write-only, outside the stream', () => {
    const doc = buildAsyncApiDocument();
    const op = at(doc, 'operations', 'changePassword') as Json;
    assert.equal(op['action'], 'send');
    assert.ok(at(op, 'reply', 'channel'));
    assert.equal(at(doc, 'channels', 'PasswordChange', 'address'), CommandSubjects.PasswordChange);
    const password = at(doc, 'components', 'messages', 'PasswordChangeRequest', 'payload', 'properties', 'password') as Json;
    assert.equal(password['writeOnly'], true);
    assert.equal(password['format'], 'password');
    const streamSubjects = at(doc, 'x-jetstream', 'subjects') as string[];
    assert.ok(streamSubjects.every((s) => !CommandSubjects.PasswordChange.startsWith(s.slice(0, -1))));
    assert.ok(
      !Object.keys(at(doc, 'components', 'schemas') as Json).some((k) => k.toLowerCase().includes('password') && k.includes('Request')),
    );
  });

  it('lists every command subject once, as a send with a request and a reply payload, outside the stream', () => {
    const doc = buildAsyncApiDocument();
    const subjects = Object.values(CommandSubjects);
    assert.deepEqual(COMMAND_CATALOGUE.map((c) => c.subject).sort(), [...subjects].sort());
    const channels = at(doc, 'channels') as Record<string, Json>;
    const streamSubjects = at(doc, 'x-jetstream', 'subjects') as string[];
    for (const subject of subjects) {
      assert.ok(subject.startsWith(`${COMMAND_PREFIX}.`), subject);
      assert.ok(
        streamSubjects.every((s) => !subject.startsWith(s.slice(0, -1))),
        `${subject} is outside the stream`,
      );
      const names = Object.keys(channels).filter((name) => channels[name]!['address'] === subject);
      assert.equal(names.length, 1, `one channel for ${subject}`);
      const name = names[0]!;
      const op = Object.values(at(doc, 'operations') as Record<string, Json>).find(
        (o) => at(o, 'channel', '$ref') === `#/channels/${name}`,
      );
      assert.equal(op?.['action'], 'send', `${subject} is a send`);
      assert.equal(at(op, 'reply', 'channel', '$ref'), `#/channels/${name}Reply`);
      assert.equal(at(doc, 'components', 'messages', `${name}Request`, 'payload', 'type'), 'object', `${subject} request payload`);
      const reply = at(doc, 'components', 'messages', `${name}Reply`, 'payload');
      assert.ok(at(reply, 'anyOf') ?? at(reply, 'oneOf'), `${subject} reply payload: success or failure`);
    }
  });
});
