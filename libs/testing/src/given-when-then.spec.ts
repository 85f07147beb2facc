import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FIXED_NOW, givenWhenThen } from './given-when-then.js';

// A tiny decider: a counter that refuses to go above a limit.
type Command = { readonly type: 'increment'; readonly by: number };
type Event = { readonly type: 'incremented'; readonly by: number; readonly at: string };
type State = { readonly count: number };
class LimitExceeded extends Error {
  override readonly name = 'LimitExceeded';
  readonly code = 'LIMIT_EXCEEDED';
}
const counter = {
  initialState: { count: 0 } as State,
  decide(command: Command, state: State, now: Date): Event[] {
    if (command.by === 0) return [];
    if (state.count + command.by > 10) throw new LimitExceeded(`count would be ${state.count + command.by}`);
    return [{ type: 'incremented', by: command.by, at: now.toISOString() }];
  },
  evolve(state: State, event: Event): State {
    return { count: state.count + event.by };
  },
};

describe('givenWhenThen', () => {
  const spec = givenWhenThen(counter);

  test('folds the given events and compares outputs, with a fixed default time', () => {
    const at = FIXED_NOW.toISOString();
    spec
      .given({ type: 'incremented', by: 4, at })
      .when({ type: 'increment', by: 2 })
      .then([{ type: 'incremented', by: 2, at }]);
    spec
      .given()
      .when({ type: 'increment', by: 1 }, new Date('2030-01-01T00:00:00Z'))
      .then([{ type: 'incremented', by: 1, at: '2030-01-01T00:00:00.000Z' }]);
  });

  test('thenThrows checks the error class and message', () => {
    spec
      .givenState({ count: 9 })
      .when({ type: 'increment', by: 2 })
      .thenThrows(LimitExceeded, /would be 11/);
    assert.throws(() => spec.given().when({ type: 'increment', by: 1 }).thenThrows(LimitExceeded), assert.AssertionError);
  });

  test('thenNothing passes on empty output and fails otherwise', () => {
    spec.given().when({ type: 'increment', by: 0 }).thenNothing();
    assert.throws(() => spec.given().when({ type: 'increment', by: 1 }).thenNothing(), assert.AssertionError);
  });

  test('then fails on a mismatch and rethrows an unexpected error', () => {
    assert.throws(() => spec.given().when({ type: 'increment', by: 1 }).then([]), assert.AssertionError);
    assert.throws(() => spec.givenState({ count: 10 }).when({ type: 'increment', by: 1 }).then([]), LimitExceeded);
  });

  test('default "nothing" also covers objects whose lists are all empty', () => {
    const effects = givenWhenThen<string, null, never, { events: string[]; effects: string[] }>({
      initialState: null,
      decide: () => ({ events: [], effects: [] }),
      evolve: (s) => s,
    });
    effects.given().when('tick').thenNothing();
  });
});
