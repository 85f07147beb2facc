import { Argument, type Command } from 'commander';
import { bashCompletionScript, zshCompletionScript } from '../completion/completion-scripts.js';

/**
 * `idm completion bash|zsh`: prints a completion script for the shell, generated from the same
 * command tree that parses the arguments (so it offers exactly the commands and options there are).
 */
export function completionCommand(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: source <(idm completion bash), or see apps/cli/README.md')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh']))
    .action((shell: 'bash' | 'zsh') => {
      process.stdout.write(shell === 'bash' ? bashCompletionScript(program) : zshCompletionScript(program));
    });
}
