complete --keep-order --exclusive --command clpmonctrl --arguments "(CLP_COMPLETE=fish clpmonctrl -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
