complete --keep-order --exclusive --command clpcfctrl --arguments "(CLP_COMPLETE=fish clpcfctrl -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
