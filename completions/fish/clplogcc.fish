complete --keep-order --exclusive --command clplogcc --arguments "(CLP_COMPLETE=fish clplogcc -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
