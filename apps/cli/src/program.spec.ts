import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommanderError, type Command, type Option } from 'commander';
import { ALL_EVENT_TYPES, eventDataSchemas, eventNameOf } from '@idm/contracts';
import { CliError } from './cli-error.js';
import { kebab } from './publish/event-fields.js';
import { buildProgram } from './program.js';

const quiet = { writeOut: () => undefined, writeErr: () => undefined };

/** Every command of the tree with the words that reach it (`[]` for idm itself). */
function commands(command: Command, path: string[] = []): Array<{ path: string[]; command: Command }> {
  return [{ path, command }, ...command.commands.flatMap((c) => commands(c, [...path, c.name()]))];
}

const all = commands(buildProgram(quiet));
const label = (path: readonly string[]): string => ['idm', ...path].join(' ');

describe('idm command tree', () => {
  it('has every command the CLI offers', () => {
    assert.deepEqual(
      all
        .filter((c) => c.path.length === 1)
        .map((c) => c.path[0])
        .sort(),
      ['completion', 'dlq', 'nats-config', 'password', 'publish', 'replay', 'schedules', 'setup', 'status', 'tail', 'user'],
    );
  });

  for (const { path, command } of all) {
    describe(label(path), () => {
      const help = command.helpInformation();

      it('--help lists every option it accepts, every argument and every subcommand', () => {
        for (const option of command.options) {
          assert.ok(option.long && help.includes(option.long), `${label(path)} --help does not list ${option.flags}:\n${help}`);
          if (option.short) assert.ok(help.includes(`${option.short}, ${option.long}`), `${option.short} missing`);
          assert.ok(option.description.length > 0, `${option.flags} has no description`);
        }
        for (const argument of command.registeredArguments)
          assert.ok(help.includes(argument.name()), `argument ${argument.name()} missing`);
        for (const sub of command.commands) assert.match(help, new RegExp(`^  ${sub.name()}\\b`, 'm'), `subcommand ${sub.name()} missing`);
        assert.match(help, /-h, --help/);
      });

      it('refuses an option it does not list: a usage error, before anything runs', async () => {
        // Mandatory options are checked first: give them, so the unknown one is what fails.
        const mandatory = command.options.filter((o) => o.mandatory).flatMap((o) => [o.long!, 'x']);
        await assert.rejects(
          buildProgram(quiet).parseAsync([...path, ...mandatory, '--no-such-option'], { from: 'user' }),
          (err: unknown) => {
            // `idm publish <type>` takes the type's other spellings and says which types there are.
            if (err instanceof CliError) return err.code === 'IDM_CLI_USAGE' && /unknown event type "--no-such-option"/.test(err.message);
            return err instanceof CommanderError && err.code === 'commander.unknownOption' && /--no-such-option/.test(err.message);
          },
        );
      });
    });
  }

  it('idm --version prints the app version', async () => {
    let printed = '';
    await assert.rejects(
      buildProgram({ writeOut: (s) => (printed += s) }).parseAsync(['--version'], { from: 'user' }),
      (err: unknown) => err instanceof CommanderError && err.code === 'commander.version',
    );
    assert.match(printed, /^\d+\.\d+\.\d+/);
  });
});

describe('idm publish <type>: flags from the contracts', () => {
  for (const type of ALL_EVENT_TYPES) {
    it(`${eventNameOf(type)}: one flag per data field of the zod schema, marked required exactly when the schema requires it`, () => {
      const command = all.find((c) => c.path[0] === 'publish' && c.path[1] === kebab(eventNameOf(type)))?.command;
      assert.ok(command, `no idm publish ${kebab(eventNameOf(type))}`);
      assert.ok(command.aliases().includes(eventNameOf(type)) && command.aliases().includes(type));
      const help = command.helpInformation();
      const shape = eventDataSchemas[type].shape as Record<string, { safeParse(v: unknown): { success: boolean } }>;
      for (const [field, schema] of Object.entries(shape)) {
        const option: Option | undefined = command.options.find((o) => o.long === `--${kebab(field)}`);
        assert.ok(option, `no --${kebab(field)} for ${field}`);
        // commander's property name is the data field's name: that is how a flag reaches its field.
        assert.equal(option.attributeName(), field);
        const required = !schema.safeParse(undefined).success;
        assert.match(option.description, required ? /^required: / : /^optional: /, `${field}: ${option.description}`);
        assert.match(option.description, / — \S/, `${field} has no description in the contracts' schema`);
        assert.ok(help.includes(option.description.split(' ').slice(0, 3).join(' ')), `${field}'s help line missing`);
      }
      const common = new Set(['--data', '--subject', '--id', '--time', '--force', '--json', '--server', '--env-file']);
      const fieldFlags = command.options.filter((o) => !common.has(o.long!)).map((o) => o.long);
      assert.deepEqual(
        fieldFlags,
        Object.keys(shape).map((f) => `--${kebab(f)}`),
      );
    });
  }
});
