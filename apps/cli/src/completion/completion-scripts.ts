import type { Command, Option } from 'commander';

/** One word the shell may offer, with what it does (zsh shows it). */
interface Candidate {
  readonly word: string;
  readonly description: string;
}

/** What to complete after one command path (`""`, `dlq`, `publish user-added`). */
interface CommandNode {
  readonly path: string;
  /** Every spelling that leads here from the parent (name and aliases). */
  readonly spellings: readonly string[];
  readonly candidates: readonly Candidate[];
  /** Options that take a value: their choices, or none (then file names are offered). */
  readonly valueOptions: ReadonlyArray<{ readonly flags: readonly string[]; readonly choices: readonly string[] }>;
}

const firstSentence = (text: string): string => {
  const line = text.split('\n')[0] ?? '';
  const cut = line.search(/[.;:(]\s/);
  return (cut > 0 ? line.slice(0, cut) : line).slice(0, 90);
};

const visible = (c: Command): boolean => !(c as Command & { _hidden?: boolean })._hidden;

function optionWords(o: Option): string[] {
  return [o.long, o.short].filter((f): f is string => typeof f === 'string');
}

/** Walks the command tree: one node per command, candidates from its subcommands, arguments' choices and options. */
function commandNodes(command: Command, path: string, spellings: readonly string[], nodes: CommandNode[] = []): CommandNode[] {
  const subcommands = command.commands.filter(visible);
  const options = [
    ...command.options.filter((o) => !o.hidden),
    command
      .createHelp()
      .visibleOptions(command)
      .find((o) => o.long === '--help'),
  ].filter((o): o is Option => o !== undefined);
  const argumentChoices = command.registeredArguments.flatMap((a) => a.argChoices ?? []);
  nodes.push({
    path,
    spellings,
    candidates: [
      ...subcommands.map((c) => ({ word: c.name(), description: firstSentence(c.summary() || c.description()) })),
      ...argumentChoices.map((word) => ({ word, description: '' })),
      ...options.map((o) => ({ word: o.long ?? o.flags, description: firstSentence(o.description) })),
    ],
    valueOptions: options.filter((o) => o.required || o.optional).map((o) => ({ flags: optionWords(o), choices: o.argChoices ?? [] })),
  });
  for (const c of subcommands) commandNodes(c, path ? `${path} ${c.name()}` : c.name(), [c.name(), ...c.aliases()], nodes);
  return nodes;
}

/** Flags, then the other words (subcommands, argument choices). */
const split = (cs: readonly Candidate[]): [Candidate[], Candidate[]] => [
  cs.filter((c) => c.word.startsWith('-')),
  cs.filter((c) => !c.word.startsWith('-')),
];

const quoted = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const parentOf = (path: string): string => (path.includes(' ') ? path.slice(0, path.lastIndexOf(' ')) : '');

/** The `case` arms that follow the words typed so far down the tree (aliases lead to the command's own path). */
function walkArms(nodes: readonly CommandNode[], indent: string): string {
  return nodes
    .filter((n) => n.path !== '')
    .map((n) => {
      const parent = parentOf(n.path);
      const patterns = n.spellings.map((s) => quoted(parent ? `${parent} ${s}` : s)).join('|');
      return `${indent}${patterns}) cmdpath=${quoted(n.path)} ;;`;
    })
    .join('\n');
}

/** How a shell names the typed words: the i-th word, the first after `idm`, the current index, the previous word. */
interface ShellWords {
  readonly word: string;
  readonly first: number;
  readonly current: string;
  readonly prev: string;
}

/**
 * The body both scripts share (bash and zsh read it alike): follow the typed words down the tree
 * to the command's path, then the `case` for an option's value and the `case` setting the words to offer.
 */
function dispatch(nodes: readonly CommandNode[], shell: ShellWords, valueArms: readonly string[], wordArms: readonly string[]): string {
  return `  for ((i = ${shell.first}; i < ${shell.current}; i++)); do
    w="${shell.word}"
    [[ "$w" == -* ]] && continue
    case "\${cmdpath:+$cmdpath }$w" in
${walkArms(nodes, '      ')}
    esac
  done
  prev="${shell.prev}"
  # After an option that takes a value: its choices, or file names.
  case "$cmdpath $prev" in
${valueArms.join('\n')}
  esac
  case "$cmdpath" in
${wordArms.join('\n')}
  esac`;
}

/** `idm completion bash`: a completion function for bash, generated from the command tree. */
export function bashCompletionScript(program: Command): string {
  const nodes = commandNodes(program, '', [program.name()]);
  const valueArms = nodes.flatMap((n) =>
    n.valueOptions.map((v) => {
      const patterns = v.flags.map((f) => quoted(`${n.path} ${f}`)).join('|');
      return v.choices.length > 0
        ? `    ${patterns}) COMPREPLY=($(compgen -W ${quoted(v.choices.join(' '))} -- "$cur")); return ;;`
        : `    ${patterns}) return ;;`;
    }),
  );
  const wordArms = nodes.map((n) => {
    const [flags, names] = split(n.candidates);
    return `    ${quoted(n.path)}) words=${quoted(names.map((c) => c.word).join(' '))}; flags=${quoted(flags.map((c) => c.word).join(' '))} ;;`;
  });
  return `# bash completion for idm, generated by \`idm completion bash\`.
# Install: idm completion bash > ~/.local/share/bash-completion/completions/idm
#      or: source <(idm completion bash)   (in ~/.bashrc)
_idm() {
  local cur prev cmdpath="" w i words="" flags=""
  cur="\${COMP_WORDS[COMP_CWORD]}"
${dispatch(nodes, { word: '${COMP_WORDS[i]}', first: 1, current: 'COMP_CWORD', prev: '${COMP_WORDS[COMP_CWORD-1]}' }, valueArms, wordArms)}
  # Flags once a dash is typed, else subcommands and choices (none: file names).
  case "$cur" in -*) words="$flags" ;; esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _idm idm
`;
}

/** `idm completion zsh`: a completion function for zsh (with descriptions), generated from the command tree. */
export function zshCompletionScript(program: Command): string {
  const nodes = commandNodes(program, '', [program.name()]);
  const valueArms = nodes.flatMap((n) =>
    n.valueOptions.map((v) => {
      const patterns = v.flags.map((f) => quoted(`${n.path} ${f}`)).join('|');
      return v.choices.length > 0
        ? `    ${patterns}) compadd -- ${v.choices.map(quoted).join(' ')}; return ;;`
        : `    ${patterns}) _files; return ;;`;
    }),
  );
  const described = (cs: readonly Candidate[]): string =>
    cs.map((c) => quoted(c.description ? `${c.word.replace(/:/g, '\\:')}:${c.description}` : c.word.replace(/:/g, '\\:'))).join(' ');
  const wordArms = nodes.map((n) => {
    const [flags, names] = split(n.candidates);
    return `    ${quoted(n.path)}) candidates=(${described(names)}); flags=(${described(flags)}) ;;`;
  });
  return `#compdef idm
# zsh completion for idm, generated by \`idm completion zsh\`.
# Install: idm completion zsh > "\${fpath[1]}/_idm"   (then restart zsh)
#      or: source <(idm completion zsh)              (in ~/.zshrc, after compinit)
_idm() {
  local cmdpath="" w i prev
  local -a candidates flags
${dispatch(nodes, { word: '${words[i]}', first: 2, current: 'CURRENT', prev: '${words[CURRENT-1]}' }, valueArms, wordArms)}
  # Flags once a dash is typed, else subcommands and choices (none: file names).
  if [[ "\${words[CURRENT]}" == -* ]]; then
    _describe -t options option flags
  elif (( \${#candidates} )); then
    _describe -t commands command candidates
  else
    _files
  fi
}
if [ "$funcstack[1]" = "_idm" ]; then
  _idm "$@"
else
  compdef _idm idm
fi
`;
}
