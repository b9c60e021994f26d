complete --keep-order --exclusive --command clplcncs --arguments "(CLP_COMPLETE=fish clplcncs -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
