complete --keep-order --exclusive --command clpwebmgr --arguments "(CLP_COMPLETE=fish clpwebmgr -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
