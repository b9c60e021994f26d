complete --keep-order --exclusive --command clpcfget --arguments "(CLP_COMPLETE=fish clpcfget -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
