import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { createEvent } from './create-event.js';
import { decodeEvent } from './decode.js';
import { eventJsonSchema, renderEventJsonSchemas } from './event-json-schema.js';
import { ALL_EVENT_TYPES, EventTypes } from './event-types.js';
import { sampleData, sampleOptions } from './sample-events.fixture.js';

// This file runs from libs/contracts/{src,dist}/, three levels below the repository root.
const docs = new URL('../../../docs/', import.meta.url);

/** A stock draft-07 validator, as another language's service would use one. */
function validatorFor(type: (typeof ALL_EVENT_TYPES)[number]): (event: unknown) => string[] {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats.default(ajv);
  const validate = ajv.compile(eventJsonSchema(type));
  return (event) => (validate(event) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`.trim()));
}

describe('JSON Schema per event type', () => {
  it('docs/schemas/ holds exactly the current schemas (regenerate with `npm run asyncapi`)', () => {
    const rendered = renderEventJsonSchemas();
    assert.deepEqual(readdirSync(new URL('schemas/', docs)).sort(), [...rendered.keys()].map((p) => p.replace('schemas/', '')).sort());
    for (const [path, text] of rendered) assert.equal(readFileSync(new URL(path, docs), 'utf8'), text, `${path} is stale`);
  });

  it('accepts a valid event of every type, as the decoder does', () => {
    for (const type of ALL_EVENT_TYPES) {
      const { subject, data } = sampleData[type];
      const event = JSON.parse(JSON.stringify(createEvent(type, subject, data as never, sampleOptions))) as unknown;
      assert.deepEqual(validatorFor(type)(event), [], type);
    }
  });

  it('refuses a missing data field, a wrong type, a wrong dataversion and a malformed time, naming where', () => {
    const valid = JSON.parse(
      JSON.stringify(createEvent(EventTypes.UserAdded, 'u1001', sampleData[EventTypes.UserAdded].data, sampleOptions)),
    ) as Record<string, unknown>;
    const validate = validatorFor(EventTypes.UserAdded);
    const { userId: _userId, ...dataWithoutUser } = valid['data'] as Record<string, unknown>;
    assert.ok(validate({ ...valid, data: dataWithoutUser }).some((e) => e.includes('userId')));
    assert.ok(validate({ ...valid, type: 'idm.user.modified' }).some((e) => e.startsWith('/type')));
    assert.ok(validate({ ...valid, dataversion: '2' }).some((e) => e.startsWith('/dataversion')));
    assert.ok(validate({ ...valid, time: 'yesterday' }).some((e) => e.startsWith('/time')));
  });

  it('accepts an event without dataversion (a plain CloudEvent, read as version 1), as the decoder does', () => {
    const { dataversion: _omitted, ...plain } = JSON.parse(
      JSON.stringify(createEvent(EventTypes.UserAdded, 'u1001', sampleData[EventTypes.UserAdded].data, sampleOptions)),
    ) as Record<string, unknown>;
    assert.deepEqual(validatorFor(EventTypes.UserAdded)(plain), []);
    assert.equal(decodeEvent(plain).dataversion, '1');
  });

  it('keeps objects open, so a reader accepts fields added in a later minor version', () => {
    const event = JSON.parse(
      JSON.stringify(createEvent(EventTypes.EmailSent, 'u1001', sampleData[EventTypes.EmailSent].data, sampleOptions)),
    ) as Record<string, unknown>;
    assert.deepEqual(
      validatorFor(EventTypes.EmailSent)({ ...event, newextension: 'x', data: { ...(event['data'] as object), newField: 1 } }),
      [],
    );
  });
});
