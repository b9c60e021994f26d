complete --keep-order --exclusive --command clpstdn --arguments "(CLP_COMPLETE=fish clpstdn -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
