complete --keep-order --exclusive --command clpstat --arguments "(CLP_COMPLETE=fish clpstat -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
