complete --keep-order --exclusive --command clphealthchk --arguments "(CLP_COMPLETE=fish clphealthchk -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
