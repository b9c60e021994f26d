complete --keep-order --exclusive --command clplcnsc --arguments "(CLP_COMPLETE=fish clplcnsc -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
