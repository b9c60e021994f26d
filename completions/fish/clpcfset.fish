complete --keep-order --exclusive --command clpcfset --arguments "(CLP_COMPLETE=fish clpcfset -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
