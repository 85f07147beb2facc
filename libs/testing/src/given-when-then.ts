import assert from 'node:assert/strict';

/** The moment used when a spec does not pass `now`: 2025-01-01T09:00:00.000Z. */
export const FIXED_NOW = new Date('2025-01-01T09:00:00.000Z');

/** A pure decider as the house style shapes it. */
export interface Decider<TCommand, TState, TEvent, TOutput> {
  decide(command: TCommand, state: TState, now: Date): TOutput;
  evolve(state: TState, event: TEvent): TState;
  readonly initialState: TState;
  /**
   * What "nothing happens" means for this decider's output, for `thenNothing()`. Default:
   * `undefined`, `null`, an empty array, or an object whose array-valued fields are all empty.
   */
  isNothing?(output: TOutput): boolean;
}

/** The assertion step of a scenario. Synchronous: do not `await` a `when(...)` result. */
export interface Then<TOutput> {
  /** Asserts the outputs deep-equal `expected`; returns them. */
  then(expected: TOutput): TOutput;
  /** Asserts the outputs with a custom function; returns them. */
  thenAssert(check: (output: TOutput) => void): TOutput;
  /** Asserts `decide` threw an instance of `errorClass` (and, if given, a message matching `message`). */
  thenThrows(errorClass: abstract new (...args: never[]) => Error, message?: RegExp): void;
  /** Asserts the decision produced nothing (see {@link Decider.isNothing}). */
  thenNothing(): void;
}

/** The command step of a scenario. */
export interface When<TCommand, TOutput> {
  /** Decides `command` at `now` (default {@link FIXED_NOW}) on the state built from the given events. */
  when(command: TCommand, now?: Date): Then<TOutput>;
}

/** Entry points of {@link givenWhenThen}. */
export interface Scenario<TCommand, TState, TEvent, TOutput> {
  /** History folded with `evolve` from `initialState`. */
  given(...events: TEvent[]): When<TCommand, TOutput>;
  /** Starts from an explicit state instead of a history. */
  givenState(state: TState): When<TCommand, TOutput>;
}

function defaultIsNothing(output: unknown): boolean {
  if (output === undefined || output === null) return true;
  if (Array.isArray(output)) return output.length === 0;
  if (typeof output === 'object') return Object.values(output).every((v) => !Array.isArray(v) || v.length === 0);
  return false;
}

/**
 * Given/When/Then for pure deciders `decide(command, state, now)` and `evolve(state, event)`:
 *
 * ```ts
 * const spec = givenWhenThen(emailDecider);
 * spec.given(anEvent.userAdded({ userId: 'u1' })).when(tick).then({ events: [...], effects: [...] });
 * spec.given().when(tick).thenNothing();
 * ```
 * Assertions use `node:assert/strict` and throw `AssertionError` on mismatch.
 */
export function givenWhenThen<TCommand, TState, TEvent, TOutput>(
  decider: Decider<TCommand, TState, TEvent, TOutput>,
): Scenario<TCommand, TState, TEvent, TOutput> {
  const isNothing = decider.isNothing?.bind(decider) ?? defaultIsNothing;
  const whenFrom = (state: TState): When<TCommand, TOutput> => ({
    when(command, now = FIXED_NOW) {
      let outcome: { ok: true; output: TOutput } | { ok: false; error: unknown };
      try {
        outcome = { ok: true, output: decider.decide(command, state, now) };
      } catch (error) {
        outcome = { ok: false, error };
      }
      const output = (): TOutput => {
        if (!outcome.ok) throw outcome.error;
        return outcome.output;
      };
      return {
        then(expected) {
          const actual = output();
          assert.deepStrictEqual(actual, expected);
          return actual;
        },
        thenAssert(check) {
          const actual = output();
          check(actual);
          return actual;
        },
        thenThrows(errorClass, message) {
          if (outcome.ok) assert.fail(`expected ${errorClass.name} to be thrown, got ${JSON.stringify(outcome.output)}`);
          assert.ok(outcome.error instanceof errorClass, `expected ${errorClass.name}, got ${String(outcome.error)}`);
          if (message) assert.match(outcome.error.message, message);
        },
        thenNothing() {
          const actual = output();
          assert.ok(isNothing(actual), `expected nothing to happen, got ${JSON.stringify(actual)}`);
        },
      };
    },
  });
  return {
    given: (...events) => whenFrom(events.reduce((state, event) => decider.evolve(state, event), decider.initialState)),
    givenState: (state) => whenFrom(state),
  };
}
