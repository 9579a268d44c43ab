"""What the kwok engine's simulated kubelet runs: the one definition of its grammar.

A container's script is its ``command`` and ``args`` joined by single spaces. The simulation runs
a script only when the WHOLE script matches :data:`GRAMMAR` below; anything else is "not
simulated": a Warning event ``NotSimulated`` says so and, in strict mode (the default), the
container stays ``Waiting`` with reason ``NotSimulated`` and a message naming its command.

The same regular expression is used by three engines, so it is written in their common subset
(no look-around, no back-references, ``\\A``/``\\z`` anchors because jq's ``^``/``$`` match at every
line): jq in the Stage selectors (which pods run), Go's regexp in the Stage templates (which
container's message says NotSimulated), and Python here (``kjlab`` warns before it creates a
pod; the unit tests check all three agree).

The grammar, as the README documents it:

* ``sh -c SCRIPT`` / ``bash -c SCRIPT`` (also ``/bin/sh``, ``/bin/bash``): statements separated by
  ``;``, ``&&`` or new lines, each one of
  - ``sleep N`` (N a number, with an optional unit s, m, h, d), ``echo`` with literal words or
    quoted strings (no ``$``, no backticks, no redirection; ``!`` is literal), ``true``, ``:``,
    ``date``, ``touch``/``rm -f``/``mkdir -p`` of a path under ``/tmp`` (no output);
  - ``sleep infinity`` or ``tail -f FILE``: runs until deleted;
  - ``while true; do STATEMENTS; done`` (or ``while :``): runs until deleted;
  - an index branch, only in an Indexed Job's pod:
    ``if [ "$JOB_COMPLETION_INDEX" -eq K ]; then exit M; elif [ ... ]; then exit M; else exit M; fi``
    (``-eq``, ``=`` or ``==``); it may be followed by one ``exit M``;
  - last, and only last: ``exit M`` (a literal number) or ``false`` (exit 1).
* ``python3 -c CODE`` / ``python -c CODE``: lines, each one of
  - ``import os``/``sys``/``time`` (comma lists too), ``print("literal")``, ``time.sleep(N)``;
  - ``NAME = int(os.environ.get("JOB_COMPLETION_INDEX"))`` (or ``os.environ["…"]``);
  - an index branch, only in an Indexed Job's pod: ``if INDEX == K:`` or ``if INDEX % D == K:``
    (INDEX that name or the ``int(os.environ…)`` expression), each ``if``/``elif``/``else`` body a
    single ``sys.exit(M)``;
  - ``while True:`` with a body of the statements above: runs until deleted;
  - last, and only last: ``sys.exit(M)``.
* A bare command vector (no shell) of one such statement that is a program: ``sleep 30``,
  ``false``, ``echo hi``, ``true``, ``date``, ``tail -f FILE``, ``touch``/``rm -f``/``mkdir -p``.
  Not ``exit M`` or ``:``: they are shell builtins, and a real node cannot start such a container
  (StartError, exit code 128), which the simulation does not reproduce.
* No command and no args (the image's own entrypoint): runs until deleted.

Meaning: a container runs for the sum of its ``sleep``/``time.sleep`` (times the cluster's time
scale; a pod for its longest container), then exits with the first index branch that matches
its completion index, else the ``else`` branch, else its last ``exit M``/``sys.exit(M)``, else 1
after a final ``false``, else 0. ``echo``/``print`` output is the container's log. Anything the
grammar does not list (arithmetic ``$((…))``, variables, other programs such as ``perl`` or
``cat``, ``python3 -c '1/0'``) is not simulated: ``kjlab up --engine kind`` runs it for real.
"""

from __future__ import annotations

import json
import re

NUM = r"[0-9]+(?:\.[0-9]+)?"
_SP = r"[ \t]"  # blanks inside one statement (a new line separates statements)

# -- shell --------------------------------------------------------------------------------------
# echo's words: literal, or quoted with nothing the shell would expand.
# `!` is a literal character in `sh -c`/`bash -c` (history expansion is for interactive shells),
# so the docs' `echo The app is running!` is text.
_ECHO_WORD = r"""(?:"[^"$`\\\n]*"|'[^'\n]*'|[^\s"'$`|<>&;()\\*?{}#]+)"""
ECHO = rf"echo(?:{_SP}+{_ECHO_WORD})*"
# Files under /tmp (the probe docs' `touch /tmp/healthy; ... rm -f /tmp/healthy`): they succeed
# and print nothing; nothing simulated reads them (probes are not run: a Warning says so).
_TMP = r"/tmp/[A-Za-z0-9_./-]+"
_SH_FILES = rf"(?:touch{_SP}+{_TMP}|rm{_SP}+-f{_SP}+{_TMP}|mkdir{_SP}+-p{_SP}+{_TMP})"
_SH_SIMPLE = rf"(?:sleep{_SP}+{NUM}[smhd]?|{ECHO}|true|:|date|{_SH_FILES})"
_SH_FOREVER = rf"(?:sleep{_SP}+infinity|tail{_SP}+-f{_SP}+[A-Za-z0-9_./-]+)"
_SH_SEP = r"(?:[ \t]*(?:;|&&|\n)\s*)"
_SH_EXIT = rf"exit{_SP}+[0-9]+"
_SH_TERM = rf"(?:{_SH_EXIT}|false)"
_SH_TEST = (rf"\[{_SP}+\"?\$\{{?JOB_COMPLETION_INDEX\}}?\"?{_SP}+(?:-eq|==?){_SP}+\"?[0-9]+\"?{_SP}+\]")
_SH_IF = (rf"if{_SP}+{_SH_TEST}{_SH_SEP}then\s+{_SH_EXIT}"
          rf"(?:{_SH_SEP}elif{_SP}+{_SH_TEST}{_SH_SEP}then\s+{_SH_EXIT})*"
          rf"(?:{_SH_SEP}else\s+{_SH_EXIT})?{_SH_SEP}fi")
_SH_LOOP = rf"while{_SP}+(?:true|:){_SH_SEP}do\s+(?:{_SH_SIMPLE}{_SH_SEP})*{_SH_SIMPLE}{_SH_SEP}done"
_SH_ANY = rf"(?:{_SH_SIMPLE}|{_SH_FOREVER})"
SHELL = (rf"\s*(?:{_SH_ANY}{_SH_SEP})*"
         rf"(?:{_SH_ANY}|{_SH_TERM}|{_SH_LOOP}|{_SH_IF}(?:{_SH_SEP}{_SH_EXIT})?)(?:[ \t]*;)?\s*")

# -- python -------------------------------------------------------------------------------------
_PY_MOD = r"(?:os|sys|time)"
_PY_ENV = r"""int\(os\.environ(?:\.get\(["']JOB_COMPLETION_INDEX["']\)|\[["']JOB_COMPLETION_INDEX["']\])\)"""
PRINT = r"""print\((?:"[^"\\{}\n]*"|'[^'\\{}\n]*')\)"""
_PY_SIMPLE = (rf"(?:import{_SP}+{_PY_MOD}(?:{_SP}*,{_SP}*{_PY_MOD})*|{PRINT}|time\.sleep\({NUM}\)"
              rf"|[a-z_][a-z0-9_]*{_SP}*={_SP}*{_PY_ENV})")
_PY_NL = r"(?:[ \t]*\n\s*)"
_PY_EXIT = r"sys\.exit\([0-9]+\)"
_PY_COND = rf"(?:[a-z_][a-z0-9_]*|{_PY_ENV})(?:{_SP}*%{_SP}*[0-9]+)?{_SP}*=={_SP}*[0-9]+{_SP}*:"
_PY_BODY = rf"(?:{_PY_NL}|{_SP}*)"  # the body on the next line (indented) or after the colon
_PY_IF = (rf"if{_SP}+{_PY_COND}{_PY_BODY}{_PY_EXIT}(?:{_PY_NL}elif{_SP}+{_PY_COND}{_PY_BODY}{_PY_EXIT})*"
          rf"(?:{_PY_NL}else{_SP}*:{_PY_BODY}{_PY_EXIT})?")
_PY_LOOP = rf"while{_SP}+True{_SP}*:(?:{_PY_NL}{_PY_SIMPLE})+"
PYTHON = (rf"\s*(?:{_PY_SIMPLE}{_PY_NL})*"
          rf"(?:{_PY_SIMPLE}|{_PY_EXIT}|{_PY_LOOP}|{_PY_IF}(?:{_PY_NL}{_PY_EXIT})?)\s*")

# -- the whole command --------------------------------------------------------------------------
_SH_CMD = r"(?:/usr)?(?:/bin/)?(?:ba)?sh"
_PY_CMD = r"(?:/usr(?:/local)?/bin/)?python3?"
# Without a shell the argv's first word is exec'd: only real programs. `exit` and `:` are shell
# builtins with no executable, so on a real node such a container fails to start (StartError,
# exit code 128, "executable file not found in $PATH"); that is not simulated, so it is refused.
_BARE_SIMPLE = rf"(?:sleep{_SP}+{NUM}[smhd]?|{ECHO}|true|date|{_SH_FILES})"
_BARE = rf"(?:{_BARE_SIMPLE}|{_SH_FOREVER}|false)"
GRAMMAR = rf"\A(?:{_SH_CMD} -c {SHELL}|{_PY_CMD} -c {PYTHON}|{_BARE})\z"

# A regular init container (not a sidecar) whose script succeeds at once is Completed when the pod
# starts; any other finite script of the grammar is run in its turn (runs_in_turn, kjlab-pod-init-next:
# `Init:0/1` for 30 s, `Init:Error`), in a pod without sidecars. One that runs forever, or has no
# command (the image decides), is NotSimulated.
_SH_INSTANT = rf"(?:{ECHO}|true|:|date|{_SH_FILES})"
_INIT_SH = rf"\s*(?:{_SH_INSTANT}{_SH_SEP})*(?:{_SH_INSTANT}|exit{_SP}+0)(?:[ \t]*;)?\s*"
INIT_GRAMMAR = rf"\A(?:{_SH_CMD} -c {_INIT_SH}|{ECHO}|true|date|{_SH_FILES})\z"  # bare: programs only

# Scripts the simulation runs until the pod is deleted (given that GRAMMAR matched).
FOREVER = r"sleep[ \t]+infinity|tail[ \t]+-f|while[ \t]+(?:true|:|True)"
# The output statements, removed before sleeps and exits are read, so `echo "exit 5"` is text.
OUTPUT = rf"{ECHO}|{PRINT}"
# Scripts that read the completion index: simulated only in an Indexed Job's pod.
READS_INDEX = r"JOB_COMPLETION_INDEX"


def script(container: dict) -> str:
    """A container's script as the Stages see it: command and args joined by single spaces."""
    return " ".join((container.get("command") or []) + (container.get("args") or []))


def _py(regex: str) -> re.Pattern:
    return re.compile(regex.replace(r"\z", r"\Z"))  # Python spells end-of-string \Z


_GRAMMAR = _py(GRAMMAR)
_INIT_GRAMMAR = _py(INIT_GRAMMAR)


def is_sidecar(container: dict) -> bool:
    """A restartable init container (restartPolicy Always): runs beside the main containers."""
    return container.get("restartPolicy") == "Always"


def simulated(container: dict, indexed: bool = False, init: bool = False) -> bool:
    """True when the simulated kubelet runs this container's script (see the module doc);
    `init`: it is a regular init container (INIT_GRAMMAR)."""
    text = script(container)
    if init:
        return bool(_INIT_GRAMMAR.match(text))
    if not text:
        return True  # the image's entrypoint: runs until deleted
    if re.search(READS_INDEX, text) and not indexed:
        return False
    return bool(_GRAMMAR.match(text))


def runs_in_turn(container: dict, indexed: bool = False) -> bool:
    """A regular init container whose script the simulated kubelet runs in its turn, as it runs a main
    container's (issue 25): a finite script of the grammar (it takes time, fails, restarts), in a
    pod without sidecars (whose place among the init containers is not simulated)."""
    text = script(container)
    return bool(text) and simulated(container, indexed) and not re.search(FOREVER, re.sub(OUTPUT, "", text))


def not_simulated(pod: dict) -> list[tuple[str, str]]:
    """(container name, script) of each container in a pod spec the simulation would not run."""
    spec = pod.get("spec") or {}
    indexed = "batch.kubernetes.io/job-completion-index" in ((pod.get("metadata") or {}).get("annotations") or {})
    inits = spec.get("initContainers") or []
    in_turn = not any(is_sidecar(c) for c in inits)
    return [(c["name"], script(c)) for c in inits
            if not (simulated(c, indexed) if is_sidecar(c) else
                    simulated(c, indexed, init=True) or (in_turn and runs_in_turn(c, indexed)))] + \
        [(c["name"], script(c)) for c in spec.get("containers") or [] if not simulated(c, indexed)]


_KNOWN_SH = {"sleep", "echo", "true", ":", "date", "tail", "exit", "false", "while", "do", "done", "if", "then",
             "elif", "else", "fi", "[", "touch", "rm", "mkdir"}
_BUILTINS = {"exit", ":"}  # in _KNOWN_SH as statements, but no program of that name exists
_SH_WORD = re.compile(r"""(?:"(?:[^"\\]|\\.)*"?|'[^']*'?|[^\s;&|"'])+|&&|\|\|?|;|&|\n""")
_SH_EXPANDS = re.compile(r"[$`|<>*?{}\\()]")
_PY_LINE = _py(rf"\A[ \t]*(?:{_PY_SIMPLE}|{_PY_EXIT}|while{_SP}+True{_SP}*:|(?:el)?if{_SP}+{_PY_COND}(?:{_SP}*{_PY_EXIT})?"
               rf"|else{_SP}*:(?:{_SP}*{_PY_EXIT})?)[ \t]*\z")


def refused(container: dict, indexed: bool = False, init: bool = False) -> str | None:
    """Why the grammar refuses this container's script, naming the first token it does not take
    (None when it is simulated): e.g. "`$((40+2))` in `exit $((40+2))`" or "the program `perl`"."""
    if simulated(container, indexed, init):
        return None
    if init and runs_in_turn(container, indexed):
        return ("an init container that takes time or fails is run in its turn only in a pod without sidecars "
                "(init containers with restartPolicy Always)")
    if init and simulated(container, indexed):
        return "an init container that runs until deleted (sleep infinity, tail -f, a loop) never completes"
    if init and not script(container):
        return "an init container with no command: what the image's entrypoint does is not known"
    text = script(container)
    if re.search(READS_INDEX, text) and not indexed:
        return "it reads JOB_COMPLETION_INDEX, which only an Indexed Job's pod has"
    argv = (container.get("command") or []) + (container.get("args") or [])
    py = re.match(r"\A(?:/usr(?:/local)?/bin/)?python3? -c ", text)
    if py:
        for line in text[py.end():].splitlines():
            if line.strip() and not _PY_LINE.match(line):
                return f"the Python line `{line.strip()}`"
        return "the order of its Python lines (sys.exit only last; branches only in an Indexed Job)"
    sh = re.match(r"\A(?:/usr)?(?:/bin/)?(?:ba)?sh -c ", text)
    if not sh:
        if argv and argv[0] in _BUILTINS:
            return (f"`{argv[0]}` without a shell: it is a shell builtin, not a program, so a real node cannot start "
                    f"the container (StartError, exit code 128, executable file not found in $PATH); "
                    f"write `sh -c \"{text}\"`")
        return f"the program `{argv[0]}`" if argv and argv[0] not in _KNOWN_SH else f"`{text}` as a bare command"
    statement: list[str] = []
    for token in _SH_WORD.findall(text[sh.end():]) + [";"]:
        if token in (";", "&&", "\n"):
            statement = []
            continue
        if token in ("|", "||", "&"):
            return f"`{token}` after `{' '.join(statement)}`"
        if not statement and re.match(r"[A-Za-z_][A-Za-z0-9_]*=", token):
            return f"the variable assignment `{token}`"
        if not statement and token not in _KNOWN_SH:
            return f"the program `{token}`"
        if _SH_EXPANDS.search(token.replace("\"$JOB_COMPLETION_INDEX\"", "").replace("${JOB_COMPLETION_INDEX}", "")):
            return f"`{token}` in `{' '.join(statement + [token])}` (expansions, pipes, redirections are not simulated)"
        statement.append(token)
    return "the order of its statements (exit or false only last, loops and branches as the README lists)"


def jq_string(regex: str) -> str:
    """A jq (and Go template) string literal for a regex: JSON's escaping is valid in both."""
    return json.dumps(regex)


def jq_not_simulated() -> str:
    """jq: true when some container of the pod is outside the grammar (same rule as not_simulated)."""
    indexed = '(.metadata.annotations // {} | has("batch.kubernetes.io/job-completion-index")) as $indexed | '
    main = (f"((.command // []) + (.args // [])) | join(\" \") | select(length > 0) | (test({jq_string(GRAMMAR)}) | not)"
            f" or (test({jq_string(READS_INDEX)}) and ($indexed | not))")
    in_turn = ('([(.spec.initContainers // [])[] | select(.restartPolicy == "Always")] | length == 0) as $inTurn | ')
    init = (f"((.command // []) + (.args // [])) | join(\" \") | (test({jq_string(INIT_GRAMMAR)}) or ($inTurn and "
            f"length > 0 and test({jq_string(GRAMMAR)}) and ((test({jq_string(READS_INDEX)}) and ($indexed | not)) | not) "
            f"and (gsub({jq_string(OUTPUT)}; \"\") | test({jq_string(FOREVER)}) | not))) | not")
    return (f"{indexed}{in_turn}[((.spec.initContainers // [])[] | if .restartPolicy == \"Always\" then ({main}) else ({init}) end),"
            f" (.spec.containers[] | {main})] | any")
