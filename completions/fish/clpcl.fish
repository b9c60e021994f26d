complete --keep-order --exclusive --command clpcl --arguments "(CLP_COMPLETE=fish clpcl -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
