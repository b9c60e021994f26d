complete --keep-order --exclusive --command clprsc --arguments "(CLP_COMPLETE=fish clprsc -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
