complete --keep-order --exclusive --command clpperfc --arguments "(CLP_COMPLETE=fish clpperfc -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
