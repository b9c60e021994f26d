complete --keep-order --exclusive --command clpdown --arguments "(CLP_COMPLETE=fish clpdown -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
