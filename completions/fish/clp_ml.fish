complete --keep-order --exclusive --command clp_ml --arguments "(CLP_COMPLETE=fish clp_ml -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
