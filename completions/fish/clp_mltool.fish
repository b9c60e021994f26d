complete --keep-order --exclusive --command clp_mltool --arguments "(CLP_COMPLETE=fish clp_mltool -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
