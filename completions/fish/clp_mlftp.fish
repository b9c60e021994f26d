complete --keep-order --exclusive --command clp_mlftp --arguments "(CLP_COMPLETE=fish clp_mlftp -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
