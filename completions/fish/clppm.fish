complete --keep-order --exclusive --command clppm --arguments "(CLP_COMPLETE=fish clppm -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
