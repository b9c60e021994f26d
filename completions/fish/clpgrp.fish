complete --keep-order --exclusive --command clpgrp --arguments "(CLP_COMPLETE=fish clpgrp -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
