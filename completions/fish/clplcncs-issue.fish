complete --keep-order --exclusive --command clplcncs-issue --arguments "(CLP_COMPLETE=fish clplcncs-issue -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
