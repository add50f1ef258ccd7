"""The ``intersim`` command line: :mod:`.main` (the parser and the table of subcommands), one
module per group of subcommands (:mod:`.validate`, :mod:`.estimate`, :mod:`.run`,
:mod:`.compare`, :mod:`.results`, :mod:`.sweep`, :mod:`.data`, :mod:`.decide`), and what they
share: :mod:`.args` (arguments), :mod:`.replay` (reading a log), :mod:`.outdirs` (default
output directories), :mod:`.exits` (exit codes), :mod:`.command`."""
