complete --keep-order --exclusive --command clplogcmd --arguments "(CLP_COMPLETE=fish clplogcmd -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
