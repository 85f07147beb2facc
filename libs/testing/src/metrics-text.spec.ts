import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { metricValue } from './metrics-text.js';

describe('metricValue', () => {
  const text = [
    '# HELP idm_x x',
    '# TYPE idm_x gauge',
    'idm_x{app="a"} 3',
    'idm_x_total{app="a"} 7',
    'idm_y{app="a"} +Inf',
    'idm_z 1.5 1700000000000',
    '',
  ].join('\n');

  it('reads the series with its labels exactly, not a longer name sharing the prefix', () => {
    assert.equal(metricValue(text, 'idm_x{app="a"}'), 3);
    assert.equal(metricValue(text, 'idm_x_total{app="a"}'), 7);
    assert.equal(metricValue(text, 'idm_y{app="a"}'), Number.POSITIVE_INFINITY);
    assert.equal(metricValue(text, 'idm_z'), 1.5);
  });

  it('throws for a series that is not exposed', () => {
    assert.throws(() => metricValue(text, 'idm_x{app="b"}'), /not in the exposition/);
  });
});
